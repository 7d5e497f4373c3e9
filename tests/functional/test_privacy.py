"""Patients' data at rest, after delivery, after retention and after erasure, as the raw
database and the mail folder show it (both databases, real SMTP, committed data)."""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import logging
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.admin.auth import create_admin
from app.admin.models import AuditEvent
from app.cli import cmd_erase, cmd_purge, upgrade_database
from app.config import Settings
from app.contact.consent import CONSENT_VERSION, wording
from app.contact.models import ContactCount, ContactRequest
from app.db import empty_write_ahead_log, make_engine, write_transaction
from app.main import create_app
from app.outbox.email.senders import FileSender, MemorySender, OutgoingEmail, SmtpSender
from app.outbox.models import FAILED, SENT, OutboxMessage
from app.outbox.worker import Worker
from app.privacy.erasure import erase_person
from app.privacy.retention import purge
from app.studies.models import Study
from tests import factories as f
from tests.conftest import load, smtp_settings
from tests.functional.admin.helpers import EMAIL as ADMIN
from tests.functional.admin.helpers import PASSWORD, log_in
from tests.smtp_server import SmtpSink

FIRST, LAST = "Zephyrine", "Quillfeather"
EMAIL = "zephyrine.q@example.net"
PHONE_TYPED, PHONE_DIGITS = "+1 202-456-1111", "2024561111"
SITE_ADDRESS = "team@lakeside.example.org"
PLAIN = (FIRST, LAST, EMAIL, "zephyrine.q", PHONE_DIGITS)


@pytest.fixture
def study_ids(committed_sessionmaker: sessionmaker[Session]) -> tuple[str, int]:
    with committed_sessionmaker() as session:
        record = f.study(
            sites=[f.site(facility="Lakeside Clinic", contacts=[{"email": SITE_ADDRESS}])]
        )
        load(session, record)
        study = session.scalars(select(Study)).one()
        return study.nct_id, study.sites[0].id


@pytest.fixture
def web(settings: Settings, committed_sessionmaker: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app on committed sessions: what it stores really reaches the database file."""
    app = create_app(settings)
    app.state.sessionmaker = committed_sessionmaker
    with TestClient(app) as client:
        yield client


def submit(client: TestClient, nct_id: str, site_id: int, **changes: str) -> str:
    """Send the contact form as a patient would; the confirmation page's URL."""
    page = client.get(f"/studies/{nct_id}/contact")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    form = {
        "first_name": FIRST,
        "last_name": LAST,
        "email": EMAIL,
        "phone": PHONE_TYPED,
        "language": "pt",
        "site": str(site_id),
        "consent": "yes",
        "csrf_token": match.group(1),
        **changes,
    }
    response = client.post(f"/studies/{nct_id}/contact", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def raw_database(engine: Engine) -> bytes:
    """Everything the database holds, as an attacker with a copy of it would read it.

    SQLite: the bytes of the database file and its write-ahead log. PostgreSQL: every
    row of every table, as text.
    """
    if engine.dialect.name == "sqlite":
        # Read by another process: closing a file of the database in this one would drop
        # the POSIX locks that SQLite's connections here hold on it.
        path = str(engine.url.database)
        reader = (
            "import os, sys\n"
            "for p in sys.argv[1:]:\n"
            "    if os.path.exists(p): sys.stdout.buffer.write(open(p, 'rb').read())"
        )
        return subprocess.run(  # noqa: S603
            [sys.executable, "-c", reader, path, f"{path}-wal"], capture_output=True, check=True
        ).stdout
    chunks = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for (row,) in conn.execute(text(f'SELECT t::text FROM "{table}" t')):
                chunks.append(row)
    return "\n".join(chunks).encode()


def plain_found(engine: Engine) -> list[str]:
    data = raw_database(engine).lower()
    return [value for value in PLAIN if value.lower().encode() in data]


def deliver(sessions: sessionmaker[Session], settings: Settings, sink: SmtpSink) -> Worker:
    config = smtp_settings(settings, sink.host, sink.port)
    worker = Worker(sessions, SmtpSender.from_settings(config), config)
    worker.run_once()
    return worker


def test_raw_database_holds_no_name_email_or_phone(
    web: TestClient,
    study_ids: tuple[str, int],
    engine: Engine,
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    submit(web, *study_ids)
    empty_write_ahead_log(sessionmaker(engine))
    # The check itself must be able to fail: the plain values are what the app reads back.
    with committed_sessionmaker() as session:
        stored = session.scalars(select(ContactRequest)).one()
        assert (stored.first_name, stored.email, stored.phone) == (FIRST, EMAIL, "+12024561111")
        assert stored.consent_version == CONSENT_VERSION
        queued = session.scalars(select(OutboxMessage)).all()
        assert any(FIRST in (m.body_text or "") for m in queued)
    assert plain_found(engine) == []

    deliver(committed_sessionmaker, settings, smtp_sink)
    assert len(smtp_sink.wait_for(2)) == 2
    empty_write_ahead_log(sessionmaker(engine))
    assert plain_found(engine) == []


def test_delivered_mail_keeps_no_content_and_a_failed_one_keeps_it_encrypted(
    web: TestClient,
    study_ids: tuple[str, int],
    engine: Engine,
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.refuse_recipient(SITE_ADDRESS, f"550 5.1.1 <{SITE_ADDRESS}>: mailbox unknown")
    submit(web, *study_ids)
    deliver(committed_sessionmaker, settings, smtp_sink)
    with committed_sessionmaker() as session:
        by_kind = {m.kind: m for m in session.scalars(select(OutboxMessage))}
        copy, site = by_kind["contact_patient"], by_kind["contact_site"]
        assert copy.status == SENT
        assert (copy.recipients, copy.reply_to, copy.subject, copy.body_text, copy.body_html) == (
            None,
            None,
            None,
            None,
            None,
        )
        assert copy.message_id.startswith("<contact-")
        assert copy.sent_at is not None
        assert copy.history[-1]["outcome"] == SENT
        assert len(copy.recipient_key) == 64
        assert site.status == FAILED
        assert site.recipients == [SITE_ADDRESS]
        assert FIRST in (site.body_text or "")
        # The server's reply is kept for the administrator, without the address in it.
        assert "mailbox unknown" in (site.last_error or "")
        assert SITE_ADDRESS not in (site.last_error or "")
        assert SITE_ADDRESS not in str(site.history)
        raw = session.execute(
            text("SELECT body_text, recipients FROM outbox_messages WHERE id = :id"),
            {"id": site.id},
        ).one()
    assert raw.body_text.startswith("gAAAA")
    assert raw.recipients.startswith("gAAAA")
    assert FIRST not in raw.body_text
    assert SITE_ADDRESS not in raw.recipients


def fixed(moment: dt.datetime) -> Callable[[], dt.datetime]:
    """A clock that always says `moment`."""
    return lambda: moment


def _age(sessions: sessionmaker[Session], days: int) -> None:
    """Make every stored request and email `days` older."""
    with sessions() as session:
        for request in session.scalars(select(ContactRequest)):
            request.created_at -= dt.timedelta(days=days)
            request.consent_at -= dt.timedelta(days=days)
        for message in session.scalars(select(OutboxMessage)):
            message.created_at -= dt.timedelta(days=days)
        session.commit()


def test_purge_deletes_old_requests_their_mail_and_files_and_keeps_counts(
    web: TestClient,
    study_ids: tuple[str, int],
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    config = settings.model_copy(update={"mail_dir": str(tmp_path), "retention_days": 30})
    submit(web, *study_ids)
    worker = Worker(committed_sessionmaker, FileSender(tmp_path), config)
    assert worker.run_once().sent == 2
    assert len(list(tmp_path.glob("*.eml"))) == 2
    _age(committed_sessionmaker, 31)
    submit(web, *study_ids, email="recent.patient@example.net")
    now = dt.datetime.now(dt.UTC)
    with committed_sessionmaker() as session:
        old_day = session.scalars(
            select(ContactRequest.created_at)
            .where(ContactRequest.created_at < now)
            .order_by(ContactRequest.created_at)
        ).first()
    assert old_day is not None

    removed = purge(committed_sessionmaker, settings=config, now=now)

    assert (removed.requests, removed.messages, removed.mail_files) == (1, 2, 2)
    assert list(tmp_path.glob("*.eml")) == []
    with committed_sessionmaker() as session:
        left = session.scalars(select(ContactRequest)).all()
        assert [r.email for r in left] == ["recent.patient@example.net"]
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        (count,) = session.scalars(select(ContactCount)).all()
        assert (count.day, count.nct_id, count.routing, count.requests) == (
            old_day.date(),
            study_ids[0],
            "site",
            1,
        )
        assert "Lakeside Clinic" in count.site_name
    # Nothing more to do the second time.
    assert purge(committed_sessionmaker, settings=config, now=now).requests == 0


def test_purge_command_reports_counts(
    web: TestClient,
    study_ids: tuple[str, int],
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    submit(web, *study_ids)
    _age(committed_sessionmaker, settings.retention_days + 1)
    assert cmd_purge(argparse.Namespace(), settings) == 0
    out = capsys.readouterr().out
    assert "1 contact request(s), 2 email(s)" in out
    with committed_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(ContactRequest)) == 0
        create_admin(session, email=ADMIN, password=PASSWORD, now=dt.datetime.now(dt.UTC))
        session.commit()
    assert log_in(web).status_code == 303
    overview = web.get("/admin").text
    assert re.search(r"purged \(counts only\)</dt><dd>1, after 180 days", overview)


def test_erase_command_removes_everything_about_one_person_and_audits_without_address(
    web: TestClient,
    study_ids: tuple[str, int],
    engine: Engine,
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    smtp_sink: SmtpSink,
    capsys: pytest.CaptureFixture[str],
) -> None:
    submit(web, *study_ids)
    submit(web, *study_ids, email="someone.else@example.net", first_name="Other")
    deliver(committed_sessionmaker, settings, smtp_sink)
    smtp_sink.wait_for(4)

    # The address typed in another case is the same person.
    assert cmd_erase(argparse.Namespace(email=EMAIL.upper()), settings) == 0

    out = capsys.readouterr().out
    assert "1 contact request(s), 2 email(s)" in out
    assert "1 site(s) asked to delete the details" in out
    with committed_sessionmaker() as session:
        assert [r.first_name for r in session.scalars(select(ContactRequest))] == ["Other"]
        note = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "contact_deletion")
        ).one()
        assert note.recipients == [SITE_ADDRESS]
        assert FIRST not in (note.body_text or "")
        assert EMAIL not in (note.body_text or "")
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "privacy.erase")
        ).all()
        assert event.details["removed"]["requests"] == 1
        assert "zephyrine" not in str(event.details).lower()
        assert event.target is None
    empty_write_ahead_log(sessionmaker(engine))
    assert plain_found(engine) == []


def test_erased_bytes_do_not_linger_in_the_sqlite_file(tmp_path: Path) -> None:
    """SQLite only (PostgreSQL keeps dead rows until VACUUM: docs/security.md says so)."""
    settings = Settings(
        env="test",
        database_url=f"sqlite:///{tmp_path / 'erase.db'}",
        mail_dir=str(tmp_path / "mail"),
        _env_file=None,
    )
    upgrade_database(settings)
    engine = make_engine(settings.database_url)
    sessions = sessionmaker(engine, expire_on_commit=False)
    with sessions() as session:
        record = f.study(
            sites=[f.site(facility="Lakeside Clinic", contacts=[{"email": SITE_ADDRESS}])]
        )
        load(session, record)
        study = session.scalars(select(Study)).one()
        ids = study.nct_id, study.sites[0].id
    app = create_app(settings)
    app.state.sessionmaker = sessions
    with TestClient(app) as client:
        submit(client, *ids)
    empty_write_ahead_log(sessions)
    with sessions() as session:
        ciphertexts: list[Any] = list(
            session.execute(
                text("SELECT first_name, email, phone, email_key FROM contact_requests")
            ).one()
        )
        ciphertexts += [
            body for (body,) in session.execute(text("SELECT body_text FROM outbox_messages"))
        ]
    # Long values span SQLite's overflow pages, so look for short pieces of each.
    probes = [
        value[start : start + 32].encode()
        for value in ciphertexts
        for start in range(0, len(value) - 32, 400)
    ]
    data = raw_database(engine)
    found = [probe for probe in probes if probe in data]
    assert len(found) > 0.9 * len(probes)  # the check can fail: they are there now

    assert cmd_erase(argparse.Namespace(email=EMAIL), settings) == 0

    data = raw_database(engine)
    engine.dispose()
    assert [probe for probe in probes if probe in data] == []


def test_daily_job_runs_on_one_worker_among_many_and_again_24_hours_later(
    committed_sessionmaker: sessionmaker[Session],
) -> None:
    runs: list[str] = []
    start = threading.Barrier(8)

    def work(sessions: sessionmaker[Session], now: dt.datetime) -> str:
        runs.append(now.isoformat())
        time.sleep(0.3)  # long enough for every other worker to try meanwhile
        return "done"

    job = jobs.DailyJob("test-job", work)
    first = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    results: list[dict[str, str]] = []

    def worker(n: int) -> None:
        start.wait()
        results.append(
            jobs.run_due(committed_sessionmaker, [job], worker=f"w{n}", now=fixed(first))
        )

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(runs) == 1
    assert sorted(len(r) for r in results) == [0] * 7 + [1]

    def at(moment: dt.datetime) -> dict[str, str]:
        return jobs.run_due(committed_sessionmaker, [job], worker="w", now=fixed(moment))

    assert at(first + dt.timedelta(hours=23, minutes=59)) == {}
    assert at(first + dt.timedelta(hours=24)) == {"test-job": "done"}
    assert len(runs) == 2
    with committed_sessionmaker() as session:
        row = session.get(jobs.DailyJobRun, "test-job")
        assert row is not None
        assert row.last_run_at == first + dt.timedelta(hours=24)
        assert row.taken_by is None
        assert row.last_result == "done"


def test_a_failed_daily_job_is_tried_again_later_not_at_every_poll(
    committed_sessionmaker: sessionmaker[Session],
) -> None:
    attempts: list[dt.datetime] = []

    def broken(sessions: sessionmaker[Session], now: dt.datetime) -> str:
        attempts.append(now)
        raise RuntimeError("disk full")

    job = jobs.DailyJob("broken-job", broken)
    now = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    for minutes in (0, 1, 14):
        moment = now + dt.timedelta(minutes=minutes)
        assert jobs.run_due(committed_sessionmaker, [job], worker="w", now=fixed(moment)) == {}
    assert len(attempts) == 1
    later = now + jobs.RETRY_AFTER_FAILURE
    jobs.run_due(committed_sessionmaker, [job], worker="w", now=fixed(later))
    assert len(attempts) == 2


def test_the_worker_runs_the_purge_as_a_daily_job(
    web: TestClient,
    study_ids: tuple[str, int],
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    from app.daily import daily_jobs

    submit(web, *study_ids)
    _age(committed_sessionmaker, settings.retention_days + 1)
    config = settings.model_copy(update={"mail_dir": str(tmp_path), "worker_poll_seconds": 0.05})
    worker = Worker(
        committed_sessionmaker, FileSender(tmp_path), config, daily_jobs=daily_jobs(config)
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with committed_sessionmaker() as session:
                if session.scalar(select(func.count()).select_from(ContactRequest)) == 0:
                    break
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(10)
    with committed_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(ContactRequest)) == 0
        row = session.get(jobs.DailyJobRun, "purge")
        assert row is not None
        assert row.last_run_at is not None
        assert "1 contact request(s)" in (row.last_result or "")


def test_consent_wording_and_version_are_stored_with_each_request(
    web: TestClient, study_ids: tuple[str, int], committed_sessionmaker: sessionmaker[Session]
) -> None:
    page = web.get(f"/studies/{study_ids[0]}/contact")
    assert wording(CONSENT_VERSION) in page.text.replace("&#39;", "'")
    submit(web, *study_ids)
    with committed_sessionmaker() as session:
        assert session.scalars(select(ContactRequest.consent_version)).one() == CONSENT_VERSION


def test_no_personal_data_reaches_the_logs_from_request_to_erasure(
    web: TestClient,
    study_ids: tuple[str, int],
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = settings.model_copy(update={"mail_dir": str(tmp_path)})
    submit(web, *study_ids)
    Worker(committed_sessionmaker, FileSender(tmp_path), config).run_once()
    eml = next(tmp_path.glob("contact-*.patient@*.eml")).read_bytes()
    message = email.message_from_bytes(eml, policy=email.policy.default)
    body = message.get_body(("plain",))
    assert body is not None
    link = re.search(r"/requests/[A-Za-z0-9_-]{43}", body.get_content())
    assert link
    page = web.get(link.group(0))
    assert FIRST in page.text  # the page shows it; the logs must not
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    withdrawn = web.post(
        f"{link.group(0)}/withdraw", data={"csrf_token": match.group(1)}, follow_redirects=False
    )
    assert withdrawn.status_code == 303
    submit(web, *study_ids)
    assert cmd_erase(argparse.Namespace(email=EMAIL), config) == 0
    # The application's records: not the test's HTTP client, nor the test mail server.
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("mail", "httpx"))
    ).lower()
    assert "withdrew" in logged  # the log says what happened...
    assert [value for value in PLAIN if value.lower() in logged] == []  # ...never to whom
    assert link.group(0)[10:] not in logged


def test_a_withdrawal_racing_the_worker_never_leaves_the_site_with_details_unasked(
    web: TestClient,
    study_ids: tuple[str, int],
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The worker tries to send the site's email while the withdrawal is deleting it.

    Either the worker got it first (then the site is asked to delete it) or it never
    sends it: never delivered with no note.
    """
    from app.privacy import erasure

    submit(web, *study_ids)
    sent = MemorySender()
    worker = Worker(committed_sessionmaker, sent, settings)
    racer = threading.Thread(target=worker.run_once)
    real_remove = erasure.remove_mail_file

    def remove_while_the_worker_runs(config: Settings, message_id: str) -> bool:
        if not racer.is_alive() and racer.ident is None:
            racer.start()
            racer.join(3)  # SQLite: it waits for the write lock; PostgreSQL: it skips locked rows
        return real_remove(config, message_id)

    monkeypatch.setattr(erasure, "remove_mail_file", remove_while_the_worker_runs)
    with committed_sessionmaker() as session:
        copy = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "contact_patient")
        ).one()
        link = re.search(r"/requests/[A-Za-z0-9_-]{43}", copy.body_text or "")
    assert link
    page = web.get(link.group(0))
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    response = web.post(
        f"{link.group(0)}/withdraw", data={"csrf_token": match.group(1)}, follow_redirects=False
    )
    assert response.status_code == 303
    racer.join(15)
    assert not racer.is_alive()
    delivered_to_site = [m for m in sent.sent if SITE_ADDRESS in m.to]
    with committed_sessionmaker() as session:
        notes = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "contact_deletion")
        ).all()
    assert len(notes) == len(delivered_to_site)


def test_a_message_erased_while_the_file_backend_writes_it_leaves_no_file(
    web: TestClient,
    study_ids: tuple[str, int],
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
) -> None:
    config = settings.model_copy(update={"mail_dir": str(tmp_path)})
    submit(web, *study_ids)

    class EraseDuringSend(FileSender):
        def send(self, email: OutgoingEmail) -> None:
            if email.to == (SITE_ADDRESS,):
                with committed_sessionmaker() as session, write_transaction(session):
                    erase_person(session, EMAIL, settings=config, now=dt.datetime.now(dt.UTC))
            super().send(email)

    Worker(committed_sessionmaker, EraseDuringSend(tmp_path), config).run_once()
    # The site's email went out while it was being erased: a note asks the site to delete it,
    # and no copy stays in the mail folder.
    left = [path.name for path in tmp_path.glob("*.eml")]
    assert not any(name.startswith("contact-") for name in left), left
    with committed_sessionmaker() as session:
        kinds = [m.kind for m in session.scalars(select(OutboxMessage))]
    assert kinds == ["contact_deletion"]


def test_rotating_keys_while_the_worker_delivers_never_brings_content_back(
    web: TestClient,
    study_ids: tuple[str, int],
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cryptography.fernet import Fernet

    from app import crypto
    from app.crypto import Vault
    from app.rotation import rotate_all

    submit(web, *study_ids)
    old = crypto.vault()
    new = Fernet.generate_key().decode()
    keys = Vault((new, old.data_keys[0]), settings.lookup_key or "")
    crypto.install(keys)
    worker = Worker(committed_sessionmaker, MemorySender(), settings)
    racer = threading.Thread(target=worker.run_once)
    real_rotate = Vault.rotate
    calls: list[str] = []

    def rotate_while_the_worker_runs(self: Vault, token: str) -> str:
        calls.append(token)
        # The request's five values come first; the sixth is the first email's.
        if len(calls) == 6:
            racer.start()
            racer.join(3)  # it waits for the locked rows, or delivers before they are read
        return real_rotate(self, token)

    monkeypatch.setattr(Vault, "rotate", rotate_while_the_worker_runs)
    try:
        rotate_all(committed_sessionmaker, keys)
        racer.join(15)
        assert not racer.is_alive()
        # Delivered meanwhile (SQLite: after the rotation; PostgreSQL: it skipped the locked
        # rows) or now: a delivered message never gets its content back.
        worker.run_once()
        with committed_sessionmaker() as session:
            rows = session.scalars(select(OutboxMessage)).all()
            assert [m.status for m in rows] == [SENT, SENT]
            content = [(m.body_text, m.recipients, m.subject) for m in rows]
            assert content == [(None, None, None)] * 2
    finally:
        monkeypatch.undo()
        rotate_all(
            committed_sessionmaker, Vault((old.data_keys[0], new), settings.lookup_key or "")
        )
        crypto.install(old)


def test_erase_refuses_what_is_not_an_email_address(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cmd_erase(argparse.Namespace(email="not an address"), settings) == 2
    assert "is not an email address" in capsys.readouterr().err
