"""Who migrates: development and test processes migrate first; production ones never do.

In production, migrations are their own step (`trialfinder db upgrade`); every other command
that needs the database checks that the schema is the newest and refuses to start if not.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from alembic import command
from alembic.script import ScriptDirectory

from app import cli
from app.config import Settings, get_settings
from tests import factories
from tests.conftest import _postgres_database

# Every command that used to migrate on start, with arguments that reach the database.
COMMANDS = [
    ["serve", "--port", "9"],
    ["worker", "--once"],
    ["outbox", "status"],
    ["import-ctgov", "-"],
    ["fetch-ctgov", "--nct", "NCT00000001"],
    ["demo-data", "--studies", "1"],
    ["create-admin", "--password-stdin", "admin@example.org"],
]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('cli') / 'empty.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch, empty_database: str
) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("TRIALFINDER_DATABASE_URL", empty_database)
    monkeypatch.setenv("TRIALFINDER_EMAIL_BACKEND", "file")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    def never_serve(*args: object, **kwargs: object) -> None:
        raise AssertionError("serve started without the schema check")

    monkeypatch.setattr(uvicorn, "run", never_serve)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALFINDER_ENV", "production")
    monkeypatch.setenv("TRIALFINDER_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("TRIALFINDER_BASE_URL", "https://trials.example.org")
    get_settings.cache_clear()


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> int:
    # create-admin reads its password first; import-ctgov - reads studies (none) after the check.
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    return cli.main(argv)


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_production_never_migrates_and_refuses_an_old_schema(
    environment: pytest.MonkeyPatch, empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    production(environment)
    for argv in COMMANDS:
        assert run(environment, argv) == 1, argv
        error = capsys.readouterr().err
        assert "schema is not migrated yet" in error, argv
        assert "In production, migrations are their own step" in error
        assert "run `trialfinder db upgrade`" in error
    assert tables(empty_database) == set()

    assert run(environment, ["db", "upgrade"]) == 0
    assert run(environment, ["outbox", "status"]) == 0
    assert "email queue: empty" in capsys.readouterr().out

    config = cli.alembic_config(get_settings())
    scripts = ScriptDirectory.from_config(config)
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    command.downgrade(config, "-1")
    assert run(environment, ["worker", "--once"]) == 1
    error = capsys.readouterr().err
    assert f"schema is at revision {previous}; this version needs revision {head}" in error


@pytest.mark.parametrize("env", ["development", "test"])
def test_elsewhere_commands_migrate_first(
    environment: pytest.MonkeyPatch, empty_database: str, env: str
) -> None:
    environment.setenv("TRIALFINDER_ENV", env)
    get_settings.cache_clear()
    assert run(environment, ["outbox", "status"]) == 0
    assert {"studies", "outbox_messages", "alembic_version"} <= tables(empty_database)


def test_the_check_itself_passes_at_head(environment: pytest.MonkeyPatch) -> None:
    production(environment)
    settings: Settings = get_settings()
    cli.upgrade_database(settings)
    cli.prepare_database(settings)  # no exception: at head, nothing to do


def test_create_admin_without_a_terminal_explains_itself(
    environment: pytest.MonkeyPatch, empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_prompt(prompt: str = "") -> str:
        raise AssertionError("asked for a password with no terminal to ask on")

    environment.setattr(getpass, "getpass", no_prompt)
    for stdin in ("", "a long enough password\n"):  # nothing, or a password piped unasked
        environment.setattr(sys, "stdin", io.StringIO(stdin))
        assert cli.main(["create-admin", "ops@example.org"]) == 2
        error = capsys.readouterr().err
        assert "no terminal to ask for a password: use --password-stdin, e.g. " in error
        assert (
            "`printf '%s\\n' \"$PASSWORD\" | trialfinder create-admin ops@example.org "
            "--password-stdin`"
        ) in error
    assert tables(empty_database) == set()  # nothing was done


def test_create_admin_ended_at_the_prompt_explains_itself(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    def ended(prompt: str = "") -> str:
        raise EOFError

    environment.setattr(sys, "stdin", Terminal(""))
    environment.setattr(getpass, "getpass", ended)
    assert cli.main(["create-admin", "ops@example.org"]) == 2
    assert "use --password-stdin" in capsys.readouterr().err


def test_create_admin_without_a_terminal_is_no_traceback(tmp_path: Path) -> None:
    """As a script or `docker run` without -t would run it: no terminal at all."""
    env = {
        **os.environ,
        "TRIALFINDER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "TRIALFINDER_KEY_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-admin", "ops@example.org"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        start_new_session=True,  # no controlling terminal either
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "no terminal to ask for a password: use --password-stdin" in done.stderr


def test_demo_data_can_be_removed_before_or_after_importing_real_records(
    environment: pytest.MonkeyPatch,
    empty_database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = factories.study("NCT05501886", sites=[factories.site(), factories.site()])
    listing = tmp_path / "real.json"
    listing.write_text(json.dumps(real))

    assert run(environment, ["demo-data", "--remove"]) == 0  # nothing there yet
    assert "removed 0 demo studies with 0 sites; 0 other studies kept" in capsys.readouterr().out
    assert run(environment, ["demo-data", "--studies", "3", "--if-empty", "-q"]) == 0
    assert run(environment, ["import-ctgov", "-q", str(listing)]) == 0
    capsys.readouterr()

    assert run(environment, ["demo-data", "--remove"]) == 0
    said = capsys.readouterr().out
    assert re.fullmatch(r"removed 3 demo studies with [\d,]+ sites; 1 other study kept\n", said)
    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT nct_id FROM studies")).scalars().all() == [
                "NCT05501886"
            ]
            assert conn.execute(sa.text("SELECT count(*) FROM sites")).scalar() == 2
            audited = conn.execute(
                sa.text("SELECT actor FROM audit_events WHERE action = 'demo.remove'")
            ).scalars()
            assert audited.all() == ["command line"]
    finally:
        engine.dispose()

    # `make run` loads demo data only into an empty database: not over real records.
    assert run(environment, ["demo-data", "--if-empty"]) == 0
    assert "the database already holds studies; no demo data loaded" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        cli.main(["demo-data", "--remove", "--if-empty"])
    assert refused.value.code == 2
