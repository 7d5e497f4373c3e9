"""The wheel, installed the way the Docker image installs it, runs on its own.

No Docker engine runs where the tests run, so this stands in for building the image: build
the wheel from a copy of the repository, install the locked runtime dependencies (checked
against their hashes) and then the wheel, not editable, into a fresh virtualenv, and drive
the `trialfinder` command from a directory outside the repository.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from tests.conftest import IN_CI
from tests.smtp_server import free_port

pytestmark = pytest.mark.install

REPO = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = REPO / "requirements" / "runtime.txt"
# What a fresh clone does not have, and what must not slip into the build (a stale build/
# directory would put files the repository no longer has into the wheel).
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"
)
PRODUCTION = {
    "TRIALFINDER_ENV": "production",
    "TRIALFINDER_SECRET_KEY": "install-test-" + "k" * 32,
    "TRIALFINDER_BASE_URL": "https://trials.example.org",
    # Production takes its keys from the environment only.
    "TRIALFINDER_DATA_KEY": Fernet.generate_key().decode(),
    "TRIALFINDER_LOOKUP_KEY": Fernet.generate_key().decode(),
}


@dataclass(frozen=True)
class Installation:
    venv: Path
    wheel: Path
    elsewhere: Path  # the working directory for every command: outside the repository

    def env(self, database: Path, **extra: str) -> dict[str, str]:
        """This machine's environment without any TrialFinder setting or path to the repo."""
        inherited = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith("TRIALFINDER_")
            and name not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
        }
        return {
            **inherited,
            "TRIALFINDER_DATABASE_URL": f"sqlite:///{database}",
            "TRIALFINDER_MAIL_DIR": str(self.elsewhere / "mail"),
            **extra,
        }

    def run(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own command
            [str(self.venv / "bin" / "trialfinder"), *args],
            cwd=self.elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    # The pip of the test run's own environment (the locked one), pointed at the new venv.
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)  # noqa: S603


def _index_reachable() -> bool:
    index = urlsplit(os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple"))
    if not index.hostname:
        return True
    try:
        with socket.create_connection((index.hostname, index.port or 443), timeout=5):
            return True
    except OSError:
        return False


def _require(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode == 0:
        return
    output = f"{result.stdout}\n{result.stderr}".strip()
    if not IN_CI and not _index_reachable():
        pytest.skip(f"{what} failed and the package index is unreachable: {output[-300:]}")
    pytest.fail(f"{what} failed:\n{output}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=NOT_IN_A_CLONE)
    # No build isolation: the build uses the lock's setuptools, not whatever is newest.
    wheels = root / "dist"
    built = _pip(
        "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(wheels), str(source)
    )
    _require(built, "building the wheel")
    (wheel,) = wheels.glob("trialfinder-*.whl")

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)  # noqa: S603
    into = ("--python", str(venv / "bin" / "python"))
    _require(
        _pip(*into, "install", "--require-hashes", "-r", str(RUNTIME_LOCK)), "the runtime lock"
    )
    _require(_pip(*into, "install", "--no-deps", str(wheel)), "installing the wheel")
    # The lock holds everything the wheel asks for.
    _require(_pip(*into, "check"), "pip check")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    return Installation(venv=venv, wheel=wheel, elsewhere=elsewhere)


@contextmanager
def serving(installed: Installation, env: dict[str, str]) -> Iterator[httpx.Client]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own command
        [str(installed.venv / "bin" / "trialfinder"), "serve", "--port", str(port)],
        cwd=installed.elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    pytest.fail(f"serve stopped: {server.communicate()[0]}")
                try:
                    http.get("/healthz")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail("serve did not answer within 60 s")
                    time.sleep(0.2)
            yield http
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def test_the_command_runs(installed: Installation, tmp_path: Path) -> None:
    result = installed.run("--help", env=installed.env(tmp_path / "unused.db"))
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
    assert "db" in result.stdout


def test_the_wheel_carries_every_resource_and_no_tests(installed: Installation) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    assert all(n.startswith(("app/", "trialfinder-0.1.0.dist-info/")) for n in names)
    assert not any("tests/" in n or "/test_" in n for n in names)
    for top in ("templates", "static", "migrations"):
        in_repo = {
            f"app/{p.relative_to(REPO).as_posix()}"
            for p in (REPO / top).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert in_repo <= names, sorted(in_repo - names)


def test_the_installed_app_uses_its_own_files(installed: Installation, tmp_path: Path) -> None:
    probe = (
        "import json, app, app.resources as r; print(json.dumps("
        "[app.__file__, str(r.TEMPLATE_DIR), str(r.STATIC_DIR), str(r.MIGRATIONS_DIR)]))"
    )
    result = subprocess.run(  # noqa: S603 - our own command
        [str(installed.venv / "bin" / "python"), "-c", probe],
        cwd=installed.elsewhere,
        env=installed.env(tmp_path / "unused.db"),
        capture_output=True,
        text=True,
        check=True,
    )
    venv = installed.venv.resolve()
    for found in map(Path, json.loads(result.stdout)):
        assert found.resolve().is_relative_to(venv), found
        assert not found.resolve().is_relative_to(REPO), found
    site_packages = next(venv.glob("lib/python*/site-packages"))
    assert not list(site_packages.glob("__editable__*"))  # not an editable install
    for pth in site_packages.glob("*.pth"):
        assert str(REPO) not in pth.read_text()


def test_migrate_then_serve_pages(installed: Installation, tmp_path: Path) -> None:
    env = installed.env(tmp_path / "trialfinder.db")
    upgraded = installed.run("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    loaded = installed.run("demo-data", "--studies", "25", "--quiet", env=env)
    assert loaded.returncode == 0, loaded.stderr

    with serving(installed, env) as http:
        for path in ("/", "/studies?condition=asthma"):
            page = http.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-type"].startswith("text/html")
            assert page.text.lstrip().lower().startswith("<!doctype html>")
            assert " · TrialFinder</title>" in page.text
        css = http.get("/static/css/site.css")
        assert css.status_code == 200
        assert css.headers["content-type"].startswith("text/css")
        health = http.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok")


def test_production_serve_waits_for_the_migration_step(
    installed: Installation, tmp_path: Path
) -> None:
    database = tmp_path / "production.db"
    env = installed.env(database, **PRODUCTION)

    refused = installed.run("serve", "--port", str(free_port()), env=env)

    assert refused.returncode == 1
    assert "In production, migrations are their own step" in refused.stderr
    assert "run `trialfinder db upgrade`" in refused.stderr
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()

    assert installed.run("db", "upgrade", env=env).returncode == 0
    with serving(installed, env) as http:
        health = http.get("/healthz")
        assert health.status_code == 200
        assert "Strict-Transport-Security" in health.headers  # production settings are on
