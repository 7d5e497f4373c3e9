"""Many patients at once, against a real server on 127.0.0.1: nothing lost, nothing doubled."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.contact.models import ContactRequest
from app.main import create_app
from app.outbox.email.senders import SmtpSender
from app.outbox.models import OutboxMessage
from app.outbox.worker import Worker
from app.studies.models import Study
from tests import factories as f
from tests.conftest import load, smtp_settings
from tests.servers import uvicorn_in_thread
from tests.smtp_server import SmtpSink

SUBMISSIONS = 200


@pytest.fixture
def server(settings: Settings, committed_sessionmaker: sessionmaker[Session]) -> Iterator[str]:
    with uvicorn_in_thread(create_app(settings)) as url:
        yield url


def test_200_concurrent_submissions_are_all_stored_and_delivered_once(
    server: str,
    committed_sessionmaker: sessionmaker[Session],
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    with committed_sessionmaker() as session:
        record = f.study(
            sites=[f.site(facility="Busy Clinic", contacts=[{"email": "team@example.org"}])]
        )
        load(session, record)
        study = session.scalars(select(Study)).one()
        nct_id, site_id = study.nct_id, study.sites[0].id

    def patient(n: int) -> int:
        with httpx.Client(base_url=server, timeout=60) as http:
            page = http.get(f"/studies/{nct_id}/contact")
            match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert match
            form = {
                # Names take no digits: spell the number with letters.
                "first_name": "Patient",
                "last_name": "".join(chr(97 + int(d)) for d in str(n)),
                "email": f"patient{n}@example.com",
                "phone": "+1 202-456-1111",
                "site": str(site_id),
                "consent": "yes",
                "csrf_token": match.group(1),
            }
            return http.post(f"/studies/{nct_id}/contact", data=form).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = Counter(pool.map(patient, range(SUBMISSIONS)))
    assert codes == {303: SUBMISSIONS}

    with committed_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(ContactRequest)) == SUBMISSIONS
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2 * SUBMISSIONS

    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    worker = Worker(committed_sessionmaker, SmtpSender.from_settings(config), config)
    counts = worker.run_once()
    assert (counts.sent, counts.retried, counts.failed) == (2 * SUBMISSIONS, 0, 0)
    received = Counter(m.message["Message-ID"] for m in smtp_sink.wait_for(2 * SUBMISSIONS))
    assert len(received) == 2 * SUBMISSIONS
    assert set(received.values()) == {1}
    assert worker.run_once().sent == 0


def test_a_stalled_upload_does_not_hold_up_other_patients(
    server: str, committed_sessionmaker: sessionmaker[Session]
) -> None:
    """A phone on a bad network sends half a form: nobody else may wait for it."""
    import socket
    import time
    from urllib.parse import urlsplit

    with committed_sessionmaker() as session:
        record = f.study(
            sites=[f.site(facility="Quiet Clinic", contacts=[{"email": "team@example.org"}])]
        )
        load(session, record)
        study = session.scalars(select(Study)).one()
        nct_id, site_id = study.nct_id, study.sites[0].id
    address = urlsplit(server)
    stalled = []
    for _ in range(20):  # more than the database connection pool holds
        sock = socket.create_connection((address.hostname, address.port))
        sock.sendall(
            f"POST /studies/{nct_id}/contact HTTP/1.1\r\nHost: {address.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            "first_name=".encode()
        )
        stalled.append(sock)
    try:
        started = time.perf_counter()
        with httpx.Client(base_url=server, timeout=30) as http:
            page = http.get(f"/studies/{nct_id}/contact")
            match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert match
            response = http.post(
                f"/studies/{nct_id}/contact",
                data={
                    "first_name": "Rosa",
                    "last_name": "Parks",
                    "email": "rosa@example.com",
                    "phone": "+1 202-456-1111",
                    "site": str(site_id),
                    "consent": "yes",
                    "csrf_token": match.group(1),
                },
            )
        assert response.status_code == 303
        assert time.perf_counter() - started < 5
    finally:
        for sock in stalled:
            sock.close()
