"""What the wheel carries, and where the app finds its files in a checkout.

The installed side (a wheel in a fresh virtualenv) is tests/functional/test_install.py.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from app import resources

REPO = Path(__file__).resolve().parents[2]
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_app_package_goes_into_the_wheel() -> None:
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "app").rglob("__init__.py")
    }
    missing = on_disk - set(SETUPTOOLS["packages"])
    assert missing == set(), "add these to [tool.setuptools] packages in pyproject.toml"


def test_the_wheel_maps_the_top_level_resource_directories_into_the_package() -> None:
    assert SETUPTOOLS["package-dir"] == {
        "app.templates": "templates",
        "app.static": "static",
        "app.migrations": "migrations",
    }
    assert set(SETUPTOOLS["package-dir"]) <= set(SETUPTOOLS["packages"])


def test_a_checkout_uses_its_own_top_level_directories() -> None:
    assert resources.TEMPLATE_DIR == REPO / "templates"
    assert resources.STATIC_DIR == REPO / "static"
    assert resources.MIGRATIONS_DIR == REPO / "migrations"
