"""The transaction model: a request holds the write lock only for its write.

Another connection holds the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the
contact tables locked exclusively) while patients and administrators post. Whatever
only reads and validates must answer at once; only a valid submission waits, and it
completes once the lock is gone.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.admin.auth import create_admin
from app.config import Settings
from app.contact.models import ContactRequest
from app.main import create_app
from app.studies.models import Study
from tests import factories as f
from tests.conftest import NOW, load
from tests.functional.admin.helpers import EMAIL, PASSWORD, log_in

HELD_SECONDS = 3.0


@contextmanager
def write_lock_held(engine: Engine) -> Iterator[None]:
    """Another writer (another process, say) in the middle of a transaction."""
    if engine.dialect.name == "sqlite":
        other = sqlite3.connect(str(engine.url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.rollback()
            other.close()
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(
            "LOCK TABLE contact_requests, outbox_messages, rate_limits, audit_events"
            " IN ACCESS EXCLUSIVE MODE"
        )
        try:
            yield
        finally:
            conn.rollback()


def token(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match
    return match.group(1)


@pytest.fixture
def live(settings: Settings, committed_sessionmaker: sessionmaker[Session]) -> Iterator[Any]:
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[{"email": "t@example.org"}])])
    with committed_sessionmaker() as session:
        load(session, record)
        create_admin(session, email=EMAIL, password=PASSWORD, now=NOW)
        session.commit()
        study = session.scalars(select(Study)).one()
        nct_id, site_id = study.nct_id, study.sites[0].id
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, nct_id, site_id


def form(site_id: int, csrf_token: str, **changes: str) -> dict[str, str]:
    return {
        "first_name": "Ana",
        "last_name": "Lima",
        "email": "ana.lima@example.com",
        "phone": "+1 202-456-1111",
        "site": str(site_id),
        "consent": "yes",
        "csrf_token": csrf_token,
        **changes,
    }


def test_invalid_posts_answer_while_another_writer_holds_the_lock(
    live: Any, engine: Engine, committed_sessionmaker: sessionmaker[Session]
) -> None:
    client, nct_id, site_id = live
    contact_page = client.get(f"/studies/{nct_id}/contact")
    assert log_in(client).status_code == 303
    admin_page = client.get("/admin/studies/new")
    with write_lock_held(engine):
        started = time.monotonic()
        invalid = client.post(
            f"/studies/{nct_id}/contact", data=form(site_id, token(contact_page.text), phone="")
        )
        forged = client.post(f"/studies/{nct_id}/contact", data=form(site_id, "forged"))
        admin_invalid = client.post(
            "/admin/studies/new",
            data={"csrf_token": token(admin_page.text), "nct_id": "nope", "brief_title": ""},
        )
        took = time.monotonic() - started
    assert (invalid.status_code, forged.status_code, admin_invalid.status_code) == (422, 403, 422)
    assert took < HELD_SECONDS, f"an invalid post waited for the write lock ({took:.1f} s)"
    with committed_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(ContactRequest)) == 0


def test_a_valid_submission_waits_for_the_lock_and_then_completes(
    live: Any, engine: Engine, committed_sessionmaker: sessionmaker[Session]
) -> None:
    client, nct_id, site_id = live
    page = client.get(f"/studies/{nct_id}/contact")
    answers: list[tuple[int, float]] = []

    def submit() -> None:
        started = time.monotonic()
        response = client.post(
            f"/studies/{nct_id}/contact",
            data=form(site_id, token(page.text)),
            follow_redirects=False,
        )
        answers.append((response.status_code, time.monotonic() - started))

    with write_lock_held(engine):
        worker = threading.Thread(target=submit)
        worker.start()
        time.sleep(HELD_SECONDS)
        assert answers == [], "the submission wrote while another writer held the lock"
    worker.join(30)
    assert answers
    assert answers[0][0] == 303
    with committed_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(ContactRequest)) == 1


def test_a_writer_that_waits_too_long_gets_the_form_again_and_nothing_is_stored(
    live: Any, engine: Engine, committed_sessionmaker: sessionmaker[Session]
) -> None:
    """Past the 10 s a writer waits for a lock (SQLite's busy timeout, PostgreSQL's
    lock_timeout), the patient gets the form back with a 503, never a hang or a 500."""
    from app.db import BUSY_TIMEOUT_SECONDS

    client, nct_id, site_id = live
    page = client.get(f"/studies/{nct_id}/contact")
    with write_lock_held(engine):
        started = time.monotonic()
        response = client.post(f"/studies/{nct_id}/contact", data=form(site_id, token(page.text)))
        took = time.monotonic() - started
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert "Your answers are kept" in response.text
    assert 'value="ana.lima@example.com"' in response.text
    assert BUSY_TIMEOUT_SECONDS - 1 < took < BUSY_TIMEOUT_SECONDS + 10
    with committed_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(ContactRequest)) == 0
