"""Where TrialFinder's files that are not Python code live: templates, static files, migrations.

The repository keeps them at the top level (`templates/`, `static/`, `migrations/`, where
a reader looks for them); a built wheel carries them inside the package (`app/templates/`, ...;
pyproject.toml maps them). The rule, in one place: an installed package uses the copies it
carries; a checkout (and the editable install `make` makes of it) uses the repository's own,
so that an edited template shows without reinstalling. Nothing else is ever looked at, so an
installed app never reads files from whatever directory it happens to be started in.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    bundled = PACKAGE_DIR / name
    if bundled.is_dir():
        return bundled
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    raise RuntimeError(
        f"TrialFinder's {name}/ directory is missing: looked in {bundled} (an installed "
        f"package) and {checkout / name} (a checkout); reinstall the package"
    )


TEMPLATE_DIR = _locate("templates")
STATIC_DIR = _locate("static")
MIGRATIONS_DIR = _locate("migrations")
