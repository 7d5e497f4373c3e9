"""The per-address limit holds across server processes: a row lock, not a count then an insert."""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.contact.models import ContactRequest
from app.contact.service import ADDRESS_LIMIT
from app.studies.models import Site, Study
from tests import factories as f
from tests.conftest import load
from tests.servers import server_processes

PER_PROCESS = 20


def test_two_processes_accept_exactly_the_limit_for_one_address(
    settings: Settings, committed_sessionmaker: sessionmaker[Session]
) -> None:
    """2 processes x 20 simultaneous requests from one address, each to another study."""
    records = [
        f.study(sites=[f.site(facility="Clinic", contacts=[{"email": "team@example.org"}])])
        for _ in range(2 * PER_PROCESS)
    ]
    with committed_sessionmaker() as session:
        load(session, *records)
        targets = session.execute(select(Study.nct_id, Site.id).join(Site)).all()
    assert len(targets) == 2 * PER_PROCESS

    with server_processes(settings, 2) as bases:
        page = httpx.get(f"{bases[0]}/studies/{targets[0][0]}/contact")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        cookies = {"tf_csrf": page.cookies["tf_csrf"]}
        start = threading.Barrier(len(targets))

        def patient(index: int) -> tuple[int, str | None]:
            nct_id, site_id = targets[index]
            base = bases[index % 2]
            form = {
                "first_name": "Ana",
                "last_name": "Lima",
                "email": "Ana.Lima@Example.com" if index % 3 else "ana.lima@example.com",
                "phone": "+1 202-456-1111",
                "site": str(site_id),
                "consent": "yes",
                "csrf_token": token.group(1),
            }
            with httpx.Client(base_url=base, cookies=cookies, timeout=60) as http:
                start.wait()
                answer = http.post(f"/studies/{nct_id}/contact", data=form)
            return answer.status_code, answer.headers.get("retry-after")

        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            answers = list(pool.map(patient, range(len(targets))))

    codes = Counter(code for code, _ in answers)
    assert codes == {303: ADDRESS_LIMIT.times, 429: 2 * PER_PROCESS - ADDRESS_LIMIT.times}
    # Each refusal says when to come back: within the hour the limit counts.
    waits = [int(wait or 0) for code, wait in answers if code == 429]
    assert all(3000 <= wait <= 3600 for wait in waits), waits
    with committed_sessionmaker() as session:
        stored = session.scalar(select(func.count()).select_from(ContactRequest))
    assert stored == ADDRESS_LIMIT.times


def test_login_throttling_holds_for_attempts_made_at_once(
    settings: Settings, committed_sessionmaker: sessionmaker[Session]
) -> None:
    """12 wrong passwords for one account at the same moment, from two processes: only the
    first 5 are checked at all; then even the right password waits out the window."""
    from app.admin.auth import MAX_FAILURES_PER_ACCOUNT, create_admin
    from tests.conftest import NOW
    from tests.functional.admin.helpers import EMAIL, PASSWORD

    with committed_sessionmaker() as session:
        create_admin(session, email=EMAIL, password=PASSWORD, now=NOW)
        session.commit()
    attempts = 12
    with server_processes(settings, 2) as bases:
        page = httpx.get(f"{bases[0]}/admin/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        cookies = {"tf_csrf": page.cookies["tf_csrf"]}
        start = threading.Barrier(attempts)

        def guess(index: int, password: str = "not the password at all") -> int:
            with httpx.Client(base_url=bases[index % 2], cookies=cookies, timeout=60) as http:
                form = {"email": EMAIL, "password": password, "csrf_token": token.group(1)}
                if index >= 0:
                    start.wait()
                return http.post("/admin/login", data=form).status_code

        with ThreadPoolExecutor(max_workers=attempts) as pool:
            codes = Counter(pool.map(guess, range(attempts)))
        assert codes == {401: MAX_FAILURES_PER_ACCOUNT, 429: attempts - MAX_FAILURES_PER_ACCOUNT}
        assert guess(-1, PASSWORD) == 429


def test_a_shared_links_passcode_tries_hold_across_processes(
    settings: Settings, committed_sessionmaker: sessionmaker[Session]
) -> None:
    """20 wrong passcodes for one link at the same moment, from two processes: exactly 5
    are checked (403), the rest answer 429; then the right passcode answers 429 on both."""
    from app.notes.service import MAX_TRIES
    from tests.notes_helpers import CRITERIA, PASSCODE, SHARE_URL

    record = f.study(criteria=CRITERIA)
    with committed_sessionmaker() as session:
        load(session, record)
        session.commit()
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    attempts = 20
    with server_processes(settings, 2) as bases:
        page = httpx.get(f"{bases[0]}/studies/{nct_id}/notes")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        cookies = {"tf_csrf": page.cookies["tf_csrf"]}
        form = {"csrf_token": token.group(1), "answer-1": "yes", "passcode": PASSCODE}
        made = httpx.post(
            f"{bases[1]}/studies/{nct_id}/notes",
            data={**form, "action": "share"},
            cookies=cookies,
        )
        assert made.status_code == 303, made.text
        link = SHARE_URL.search(made.headers["location"])
        assert link
        path = f"/shared/{link.group(1)}"
        start = threading.Barrier(attempts)

        def guess(index: int, passcode: str = "not the passcode") -> int:
            with httpx.Client(base_url=bases[index % 2], cookies=cookies, timeout=60) as http:
                data = {"passcode": passcode, "csrf_token": token.group(1)}
                if index >= 0:
                    start.wait()
                return http.post(path, data=data).status_code

        with ThreadPoolExecutor(max_workers=attempts) as pool:
            codes = Counter(pool.map(guess, range(attempts)))
        assert codes == {403: MAX_TRIES, 429: attempts - MAX_TRIES}
        assert guess(-1, PASSCODE) == 429
        assert guess(-2, PASSCODE) == 429
        assert httpx.get(bases[0] + path).status_code == 429


def test_a_repeat_is_confirmed_again_and_never_counted(
    client: TestClient, session: Session
) -> None:
    """The duplicate check comes before the limit: repeats cost nothing, even at the limit."""
    records = [
        f.study(sites=[f.site(facility="Clinic", contacts=[{"email": "team@example.org"}])])
        for _ in range(ADDRESS_LIMIT.times + 1)
    ]
    load(session, *records)

    def send(record: dict[str, Any]) -> tuple[int, str]:
        nct_id = str(record["protocolSection"]["identificationModule"]["nctId"])
        page = client.get(f"/studies/{nct_id}/contact")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        site = re.search(r'name="site" id="site-(\d+)"', page.text)
        assert token
        assert site
        form = {
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana.lima@example.com",
            "phone": "+1 202-456-1111",
            "site": site.group(1),
            "consent": "yes",
            "csrf_token": token.group(1),
        }
        answer = client.post(f"/studies/{nct_id}/contact", data=form, follow_redirects=False)
        return answer.status_code, answer.headers.get("location", "")

    first = send(records[0])
    assert first[0] == 303
    assert [send(records[0]) for _ in range(4)] == [first] * 4  # the same confirmation
    assert {send(r)[0] for r in records[1 : ADDRESS_LIMIT.times]} == {303}
    assert send(records[ADDRESS_LIMIT.times])[0] == 429  # the 11th study: over the limit
    assert send(records[0]) == first  # a repeat still gets its confirmation
    stored = session.scalar(select(func.count()).select_from(ContactRequest))
    assert stored == ADDRESS_LIMIT.times
