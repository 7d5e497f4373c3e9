"""The worker as operators run it: `trialfinder worker --once` and `serve --with-worker`."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app import cli
from app.config import Settings, get_settings
from tests import factories as f
from tests.conftest import load, smtp_settings
from tests.smtp_server import SmtpSink, free_port

PERSONAL = ("Ana", "Lima", "ana.lima@example.com", "2024561111")


def submit_through_http(http: httpx.Client | TestClient, nct_id: str, site_id: int) -> None:
    """Fill in the contact form as a browser would (a TestClient is an httpx.Client too)."""
    page = http.get(f"/studies/{nct_id}/contact", params={"location": "Chicago, IL"})
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    response = http.post(
        f"/studies/{nct_id}/contact",
        data={
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana.lima@example.com",
            "phone": "+1 202-456-1111",
            "site": str(site_id),
            "consent": "yes",
            "csrf_token": match.group(1),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303


def seed(sessions: sessionmaker[Session]) -> tuple[str, int]:
    record = f.study(
        sites=[f.site(facility="Harbor Clinic", contacts=[{"email": "team@example.org"}])]
    )
    with sessions() as session:
        load(session, record)
        from app.studies.models import Study

        study = session.query(Study).one()
        return study.nct_id, study.sites[0].id


def test_worker_once_prints_counts_and_logs_nothing_personal(
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from app.main import create_app

    nct_id, site_id = seed(committed_sessionmaker)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings)) as client:
        submit_through_http(client, nct_id, site_id)
    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    for name, value in {
        "TRIALFINDER_DATABASE_URL": config.database_url,
        "TRIALFINDER_EMAIL_BACKEND": "smtp",
        "TRIALFINDER_SMTP_HOST": config.smtp_host,
        "TRIALFINDER_SMTP_PORT": str(config.smtp_port),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        assert cli.main(["worker", "--once"]) == 0
    finally:
        get_settings.cache_clear()
    assert "sent 2, retried later 0, failed 0" in capsys.readouterr().out
    assert len(smtp_sink.wait_for(2)) == 2
    # Everything our code and its libraries logged; the test SMTP server's own log
    # ("mail.log") shows the messages it received and is not ours.
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail"))
    assert "contact request" in logged
    for secret in PERSONAL:
        assert secret not in logged, secret


def test_serve_with_worker_writes_mail_files(
    committed_sessionmaker: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    nct_id, site_id = seed(committed_sessionmaker)
    port = free_port()
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "TRIALFINDER_DATABASE_URL": settings.database_url,
        "TRIALFINDER_EMAIL_BACKEND": "file",
        "TRIALFINDER_MAIL_DIR": str(mail_dir),
        "TRIALFINDER_WORKER_POLL_SECONDS": "0.2",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--with-worker"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as http:
            submit_through_http(http, nct_id, site_id)
        files: list[Path] = []
        for _ in range(100):
            files = sorted(mail_dir.glob("*.eml")) if mail_dir.exists() else []
            if len(files) == 2:
                break
            time.sleep(0.1)
        messages = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
        assert sorted(str(m["To"]) for m in messages) == [
            "ana.lima@example.com",
            "team@example.org",
        ]
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    for secret in PERSONAL:
        assert secret not in output, secret
    # The access log keeps the path but not the client's address or the query string.
    assert f'"GET /studies/{nct_id}/contact HTTP/1.1" 200' in output
    assert "Chicago" not in output
    assert not re.search(r'\d+\.\d+\.\d+\.\d+:\d+ - "', output)


def test_outbox_command_shows_failures_and_queues_them_again(
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import datetime as dt

    from sqlalchemy import select

    from app.outbox.models import OutboxMessage
    from app.outbox.queue import Letter, enqueue

    now = dt.datetime.now(dt.UTC)
    with committed_sessionmaker() as session, session.begin():
        letter = Letter(
            "<cli-1@test.example>", "contact_site", ("x@example.org",), None, "S", "T", None
        )
        message = enqueue(session, letter, sender="TrialFinder <a@example.org>", now=now)
        message.status, message.last_error, message.attempts = "failed", "550 5.1.1 no", 3
    monkeypatch.setenv("TRIALFINDER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        assert cli.main(["outbox", "status"]) == 0
        out = capsys.readouterr().out
        assert "1 failed" in out
        assert "550 5.1.1 no" in out
        assert cli.main(["outbox", "retry"]) == 0
        assert "1 failed message(s) queued again" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    with committed_sessionmaker() as session:
        again = session.scalars(select(OutboxMessage)).one()
        assert (again.status, again.attempts) == ("queued", 0)


def test_serve_with_several_processes_shares_the_port_and_keeps_the_log_private(
    committed_sessionmaker: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    """`serve --workers 2`: two web processes, each with the access-log privacy filter."""
    nct_id, _ = seed(committed_sessionmaker)
    port = free_port()
    env = {**os.environ, "TRIALFINDER_DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        for _ in range(6):
            page = httpx.get(f"{base}/studies/{nct_id}", params={"location": "Chicago, IL"})
            assert page.status_code == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert output.count("Started server process") == 2
    assert f'"GET /studies/{nct_id} HTTP/1.1" 200' in output
    assert "Chicago" not in output
    assert not re.search(r'\d+\.\d+\.\d+\.\d+:\d+ - "', output)
