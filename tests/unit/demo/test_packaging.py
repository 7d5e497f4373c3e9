"""The demo-data package stays out of the web and worker processes and ships its data."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

from app.demo.vocabulary import DATA_DIR

ROOT = Path(__file__).resolve().parents[3]

# Imports every module of the application except app.demo itself, as a web process, a
# worker or `trialfinder serve` would, then lists whatever of app.demo got loaded.
PROBE = """
import importlib, pkgutil, sys
import app

def import_all(path, prefix):
    for module in pkgutil.iter_modules(path, prefix):
        if module.name != "app.demo":
            imported = importlib.import_module(module.name)
            if module.ispkg:
                import_all(imported.__path__, module.name + ".")

import_all(app.__path__, "app.")
from app.main import create_app
create_app()
print(sorted(name for name in sys.modules if name.startswith("app.demo")))
"""


def test_web_and_worker_code_never_load_the_demo_package(tmp_path: Path) -> None:
    # A fresh interpreter, since this test process has imported app.demo already. The
    # import-linter contracts check the source; this checks what really gets loaded.
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env={"PATH": "", "TRIALFINDER_DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_data_file_is_declared_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["app.demo"]
    files = [p.relative_to(DATA_DIR.parent).as_posix() for p in DATA_DIR.iterdir()]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
