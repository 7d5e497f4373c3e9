"""The README documents every setting and shows the two commands."""

from __future__ import annotations

from pathlib import Path

from app.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [
        name for name in Settings.model_fields if f"`TRIALFINDER_{name.upper()}`" not in README
    ]
    assert missing == []


def test_two_commands_come_first() -> None:
    assert README.index("make run") < README.index("make test") < README.index("## Configuration")
