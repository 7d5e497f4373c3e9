"""The README documents every setting and command, shows the two commands, and says how
to reach the command line."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

from app.cli import build_parser
from app.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [
        name for name in Settings.model_fields if f"`TRIALFINDER_{name.upper()}`" not in README
    ]
    assert missing == []


def test_two_commands_come_first() -> None:
    assert README.index("make run") < README.index("make test") < README.index("## Configuration")


def _command_lines() -> list[str]:
    """The commands the README's "Command line" section lists, one per line."""
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("trialfinder ")]


def test_the_readme_says_how_to_reach_the_command_after_make_run() -> None:
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    assert "`.venv/bin/trialfinder …`" in section
    assert "`source .venv/bin/activate`" in section
    # ... which is where `make` puts it,
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^VENV := \.venv$", makefile, re.MULTILINE)
    assert re.search(r"^BIN := \$\(VENV\)/bin$", makefile, re.MULTILINE)
    assert "$(BIN)/trialfinder serve" in makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    # ... under that name.
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["trialfinder"] == "app.cli:main"


def test_the_listed_commands_are_the_real_ones() -> None:
    listed = {line.split()[1] for line in _command_lines()}
    subparsers = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    assert listed == set(subparsers.choices)
