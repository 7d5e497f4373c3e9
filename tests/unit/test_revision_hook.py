"""`alembic revision` hands each new migration to ruff (alembic.ini's post-write hook)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script

REPO = Path(__file__).resolve().parents[2]


def test_a_new_revision_comes_out_fixed_and_formatted(tmp_path: Path) -> None:
    # A copy of the migrations, so that the repository never holds the test's revision.
    scripts = tmp_path / "migrations"
    shutil.copytree(REPO / "migrations", scripts, ignore=shutil.ignore_patterns("__pycache__"))
    versions_before = sorted((REPO / "migrations" / "versions").iterdir())
    config = Config(str(REPO / "alembic.ini"))
    config.set_main_option("script_location", str(scripts))

    script = command.revision(config, message="Check the hook", rev_id="hookcheck")

    assert isinstance(script, Script)
    path = Path(script.path)
    assert path.parent == scripts / "versions"
    text = path.read_text()
    # The template writes the ids with repr(), in single quotes; ruff format makes them double.
    assert 'revision: str = "hookcheck"' in text
    # The imports an empty revision is about to need are kept.
    assert "from alembic import op" in text
    ruff = [sys.executable, "-m", "ruff", "format", "--check", "--config", "pyproject.toml"]
    subprocess.run([*ruff, str(path)], cwd=REPO, check=True)  # noqa: S603
    assert sorted((REPO / "migrations" / "versions").iterdir()) == versions_before
