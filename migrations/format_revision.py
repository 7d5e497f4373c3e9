"""Alembic's post-write hook (see alembic.ini): ruff fixes, then formats, each new migration.

Alembic's "module" hook type runs `python -m migrations.format_revision FILE` with the very
interpreter that runs alembic, so the ruff installed beside it is used, as in make's .venv;
where there is none, any `ruff` on PATH. Unused imports are left in: a new, empty revision's
`op` and `sa` are there for the code about to be written.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def ruff_command() -> list[str]:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    on_path = shutil.which("ruff")
    if on_path is None:
        raise SystemExit("ruff is neither installed beside this Python nor on PATH")
    return [on_path]


def main(paths: list[str]) -> int:
    ruff = ruff_command()
    # The repository's settings, even for a file generated outside it (as the tests do).
    options = ["--config", str(PYPROJECT), *paths]
    fix = [*ruff, "check", "--fix", "--unfixable=F401", "--output-format=concise", *options]
    # What fixing leaves (an empty revision's unused imports) is for `make lint` to report.
    subprocess.run(fix, check=False)  # noqa: S603 - our own arguments, no shell
    return subprocess.run([*ruff, "format", "--quiet", *options], check=False).returncode  # noqa: S603


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
