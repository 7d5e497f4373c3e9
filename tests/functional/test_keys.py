"""The keys: made owner-only in development, required in production, checked against the
data at start, rotated without losing anything (both databases)."""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from app import crypto
from app.cli import cmd_rotate_key, main, prepare_database
from app.config import Settings
from app.contact.forms import ContactSubmission
from app.contact.models import ContactRequest
from app.contact.service import submit_contact_request
from app.crypto import KeyProblem, Vault
from app.keycheck import DATA_CHECK, KeyCheck, check_keys
from app.main import create_app
from app.outbox.models import OutboxMessage
from app.rotation import encrypted_columns, rotate_all
from app.studies.models import Study
from tests import factories as f
from tests.conftest import NOW, load


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def restore_keys() -> Iterator[None]:
    """Tests that install other keys give the process its own back afterwards."""
    saved = crypto.vault()
    yield
    crypto.install(saved)


def test_development_makes_both_keys_once_readable_by_the_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    settings = Settings(env="development", key_dir=str(folder), data_key=None, lookup_key=None)
    first = settings.vault()
    assert mode(folder) == 0o700
    for name in ("data.key", "lookup.key"):
        assert mode(folder / name) == 0o600
    again = settings.vault()  # the second start reads the same keys
    assert again.data_keys == first.data_keys
    assert again.lookup("x") == first.lookup("x")
    assert first.lookup("x") != Vault.of(Fernet.generate_key().decode(), first.data_keys[0]).lookup(
        "x"
    )


def test_production_refuses_to_start_without_keys_or_with_malformed_ones() -> None:
    production = {
        "env": "production",
        "secret_key": "s" * 40,
        "base_url": "https://trials.example.org",
        "_env_file": None,
    }
    with pytest.raises(ValidationError, match="TRIALFINDER_DATA_KEY and TRIALFINDER_LOOKUP_KEY"):
        Settings(**production, data_key=None, lookup_key=None)  # type: ignore[arg-type]
    good = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="URL-safe base64 of 32 random bytes"):
        Settings(**production, data_key="not-a-key", lookup_key=good)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="exactly one key"):
        Settings(**production, data_key=good, lookup_key=f"{good},{good}")  # type: ignore[arg-type]
    assert Settings(**production, data_key=good, lookup_key=good).vault().data_keys == (good,)  # type: ignore[arg-type]


def test_the_command_line_says_what_is_wrong_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.config import get_settings

    monkeypatch.setenv("TRIALFINDER_ENV", "production")
    monkeypatch.setenv("TRIALFINDER_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("TRIALFINDER_BASE_URL", "https://trials.example.org")
    monkeypatch.delenv("TRIALFINDER_DATA_KEY")
    get_settings.cache_clear()
    try:
        assert main(["worker", "--once"]) == 1
    finally:
        get_settings.cache_clear()
    assert "TRIALFINDER_DATA_KEY and TRIALFINDER_LOOKUP_KEY must be set" in capsys.readouterr().err


def test_keys_that_do_not_open_the_data_are_refused_at_start(
    settings: Settings, committed_sessionmaker: sessionmaker[Session], restore_keys: None
) -> None:
    current = crypto.vault()
    check_keys(committed_sessionmaker, current)  # the right keys pass
    with committed_sessionmaker() as session:
        assert session.get(KeyCheck, DATA_CHECK) is not None

    other = Fernet.generate_key().decode()
    wrong_data = settings.model_copy(update={"data_key": other})
    with pytest.raises(KeyProblem, match="TRIALFINDER_DATA_KEY does not open"):
        prepare_database(wrong_data)
    with (
        pytest.raises(KeyProblem, match="TRIALFINDER_DATA_KEY does not open"),
        TestClient(create_app(wrong_data)),
    ):
        pass
    wrong_lookup = settings.model_copy(update={"lookup_key": other})
    with pytest.raises(KeyProblem, match="TRIALFINDER_LOOKUP_KEY is not the one"):
        check_keys(committed_sessionmaker, wrong_lookup.vault())
    # A new key in front of the old one is how rotation starts: accepted.
    rotating = settings.model_copy(update={"data_key": f"{other},{current.data_keys[0]}"})
    check_keys(committed_sessionmaker, rotating.vault())


def _contact_request(session: Session, first_name: str, settings: Settings) -> ContactRequest:
    record = f.study(sites=[f.site(contacts=[{"email": "team@example.org"}])])
    load(session, record)
    study = session.scalars(select(Study)).one()
    submission = ContactSubmission(
        first_name=first_name,
        last_name="Lima",
        email="rotina@example.com",
        phone="+12024561111",
        language="pt",
        site_id=study.sites[0].id,
        consent=True,
    )
    submitted = submit_contact_request(
        session, study=study, site=study.sites[0], submission=submission, settings=settings, now=NOW
    )
    return submitted.request


def test_rotate_key_re_encrypts_everything_under_the_newest_key(
    settings: Settings,
    committed_sessionmaker: sessionmaker[Session],
    restore_keys: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = crypto.vault()
    with committed_sessionmaker() as session:
        request = _contact_request(session, "Rotina", settings)
        session.commit()
        request_id = request.id
    new = Fernet.generate_key().decode()
    rotating = settings.model_copy(update={"data_key": f"{new},{old.data_keys[0]}"})
    crypto.install(rotating.vault())
    try:
        assert cmd_rotate_key(argparse.Namespace(), rotating) == 0
        assert "the older keys can now be removed" in capsys.readouterr().out

        only_new = Vault.of(new, rotating.lookup_key or "")
        crypto.install(only_new)
        with committed_sessionmaker() as session:
            stored = session.get(ContactRequest, request_id)
            assert stored is not None
            assert stored.first_name == "Rotina"
            for message in session.scalars(select(OutboxMessage)):
                assert message.body_text
            check_keys(committed_sessionmaker, only_new)  # the check value moved too
            raw = session.execute(
                text("SELECT first_name FROM contact_requests WHERE id = :id"), {"id": request_id}
            ).scalar_one()
        with pytest.raises(KeyProblem):
            Vault.of(old.data_keys[0], rotating.lookup_key or "").decrypt(raw)
    finally:
        # Rotate back, so the database opens with the run's key again for the next tests.
        back = Vault((old.data_keys[0], new), rotating.lookup_key or "")
        rotate_all(committed_sessionmaker, back)


def test_every_encrypted_column_is_found_for_rotation() -> None:
    found = {
        f"{table.name}.{column.name}"
        for table, columns in encrypted_columns().items()
        for column in columns
    }
    assert {
        "contact_requests.first_name",
        "contact_requests.last_name",
        "contact_requests.email",
        "contact_requests.phone",
        "contact_requests.language",
        "outbox_messages.recipients",
        "outbox_messages.reply_to",
        "outbox_messages.subject",
        "outbox_messages.body_text",
        "outbox_messages.body_html",
        "outbox_messages.headers",
        "alerts.email",
        "alerts.search",
        "alerts.unsubscribe_token",
        "alerts.manage_token",
        "shares.sealed",
    } == found


def test_the_sqlite_database_and_its_logs_are_created_owner_only(tmp_path: Path) -> None:
    from app.cli import upgrade_database

    folder = tmp_path / "var"
    settings = Settings(
        env="test", database_url=f"sqlite:///{folder / 'trialfinder.db'}", _env_file=None
    )
    old_umask = os.umask(0o022)  # a usual umask: files would be world-readable
    try:
        upgrade_database(settings)
    finally:
        os.umask(old_umask)
    assert mode(folder) == 0o700
    for path in folder.iterdir():
        assert mode(path) & 0o077 == 0, path
    assert (folder / "trialfinder.db").exists()


def test_the_mail_folder_and_its_files_are_owner_only(tmp_path: Path) -> None:
    from app.outbox.email.senders import FileSender, OutgoingEmail

    folder = tmp_path / "var" / "mail"
    old_umask = os.umask(0o022)
    try:
        FileSender(folder).send(
            OutgoingEmail(
                message_id="<m1@example.org>",
                sender="TrialFinder <no-reply@example.org>",
                to=("ana@example.com",),
                subject="Your contact request",
                text="Dear Ana",
            )
        )
    finally:
        os.umask(old_umask)
    assert mode(folder) == 0o700
    (written,) = folder.iterdir()
    assert mode(written) == 0o600


def test_files_left_world_readable_by_an_earlier_version_are_tightened(tmp_path: Path) -> None:
    from app.cli import upgrade_database
    from app.outbox.email.senders import FileSender, OutgoingEmail

    folder = tmp_path / "var"
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{folder / 'trialfinder.db'}",
        key_dir=str(folder),
        data_key=None,
        lookup_key=None,
        _env_file=None,
    )
    folder.mkdir(mode=0o755)
    (folder / "trialfinder.db").touch(mode=0o644)
    (folder / "mail").mkdir(mode=0o755)
    for path in (folder, folder / "mail"):
        path.chmod(0o755)
    (folder / "trialfinder.db").chmod(0o644)
    settings.vault()  # makes the keys, and tightens their folder
    upgrade_database(settings)
    FileSender(folder / "mail").send(
        OutgoingEmail(
            message_id="<m2@example.org>",
            sender="TrialFinder <no-reply@example.org>",
            to=("ana@example.com",),
            subject="Your contact request",
            text="Dear Ana",
        )
    )
    assert mode(folder) == 0o700
    assert mode(folder / "mail") == 0o700
    for path in folder.iterdir():
        assert mode(path) & 0o077 == 0, path


def test_production_refuses_the_console_backend() -> None:
    key = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="console prints whole emails"):
        Settings(
            env="production",
            secret_key="s" * 40,
            base_url="https://trials.example.org",
            data_key=key,
            lookup_key=key,
            email_backend="console",
            _env_file=None,
        )
