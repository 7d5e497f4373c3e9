"""Notes and sharing with one's doctor, through the pages (both databases): the checklist,
the summary, sharing, opening with the passcode, wrong passcodes, revoking, expiry,
emailed links, erasure, and what the database holds."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import crypto, ratelimit
from app.config import Settings
from app.main import create_app
from app.notes import service
from app.notes import views as notes_views
from app.notes.models import Share
from app.notes.service import (
    LIMITS_TEXT,
    LOCKED_FOR,
    MAX_TRIES,
    OPEN_LIMIT,
    RECIPIENT_LIMIT,
    SHARE_LIMIT,
)
from app.outbox.email.senders import MemorySender
from app.outbox.models import OutboxMessage
from app.outbox.worker import Worker
from app.privacy.erasure import erase_person
from app.privacy.retention import purge
from tests import factories as f
from tests.alert_helpers import csrf_token
from tests.conftest import load
from tests.functional.test_privacy import raw_database
from tests.notes_helpers import (
    CRITERIA,
    LINES,
    PASSCODE,
    SECRET_NOTE,
    open_share,
    share,
    shared,
)

DOCTOR = "dr.imaginary@example.org"


def loaded(session: Session, **fields: Any) -> str:
    """Import one fictional study (factories.study with `fields`); its NCT ID."""
    study = f.study(**fields)
    load(session, study)
    return str(study["protocolSection"]["identificationModule"]["nctId"])


@pytest.fixture
def nct_id(session: Session) -> str:
    return loaded(session, criteria=CRITERIA, title="A fictional study of imaginary fever")


class Clock:
    """The notes pages' clock, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = dt.datetime.now(dt.UTC)
        monkeypatch.setattr(notes_views, "_now", lambda: self.now)

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def shares(session: Session) -> list[Share]:
    session.expire_all()
    return list(session.scalars(select(Share)))


def test_the_study_page_links_to_the_notes(client: TestClient, nct_id: str) -> None:
    page = client.get(f"/studies/{nct_id}")
    assert f'/studies/{nct_id}/notes" data-notes-link="{nct_id}">Add a private note</a>' in (
        page.text
    )


def test_every_criteria_line_is_listed_word_for_word_with_nothing_preselected(
    client: TestClient, nct_id: str
) -> None:
    page = client.get(f"/studies/{nct_id}/notes")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    legends = re.findall(
        r'<legend><span class="visually-hidden">Line (\d+): </span>([^<]+)</legend>', page.text
    )
    assert [(int(n), text) for n, text in legends] == list(enumerate(LINES, start=1))
    for n in range(1, len(LINES) + 1):
        for value in ("yes", "no", "unsure"):
            assert f'name="answer-{n}" id="answer-{n}-{value}" value="{value}">' in page.text
        assert f'name="note-{n}"' in page.text
    assert " checked" not in page.text
    assert 'name="note"' in page.text
    assert "You may be able to join if" in page.text
    assert "You may not be able to join if" in page.text
    # A passcode of four words is suggested before sharing.
    suggested = re.search(
        r'id="passcode" name="passcode"[^>]*value="([a-z]+(?:-[a-z]+){3})"', page.text
    )
    assert suggested, "no generated passcode on the form"
    assert client.get(f"/studies/{nct_id}/notes").text.count(suggested.group(1)) == 0
    # The limits on sharing are said before sharing.
    assert LIMITS_TEXT.replace("'", "&#39;") in page.text


def test_review_shows_a_summary_and_stores_nothing(
    client: TestClient, session: Session, nct_id: str
) -> None:
    page = client.get(f"/studies/{nct_id}/notes")
    answer = client.post(
        f"/studies/{nct_id}/notes",
        data={
            "csrf_token": csrf_token(page.text),
            "action": "review",
            "answer-1": "yes",
            "answer-2": "no",
            "answer-3": "unsure",
            "answer-4": "yes",
            "answer-5": "no",
            "note-3": "I am not sure what counts as an aid",
            "note": SECRET_NOTE,
        },
    )
    assert answer.status_code == 200
    html = answer.text
    assert "You answered 5 of 5 lines." in html
    summary = html[
        html.index('id="summary"') : html.index("</section>", html.index('id="summary"'))
    ]
    # To ask about: "No" on a may-join line, "Not sure" anywhere, "Yes" on a may-not-join line.
    assert LINES[1] in summary
    assert LINES[2] in summary
    assert LINES[3] in summary
    assert LINES[0] not in summary
    assert LINES[4] not in summary
    assert "eligible" not in html.lower()
    # What was sent comes back filled in, and nothing was kept.
    assert 'id="answer-2-no" value="no" checked' in html
    assert "I am not sure what counts as an aid</textarea>" in html
    assert shares(session) == []


def test_share_open_with_the_passcode_and_see_everything(
    client: TestClient, session: Session, nct_id: str, settings: Settings
) -> None:
    answer = share(client, nct_id)
    assert answer.status_code == 303
    manage = client.get(answer.headers["location"])
    assert manage.status_code == 200
    assert manage.headers["cache-control"] == "no-store"
    assert manage.headers["referrer-policy"] == "no-referrer"
    link = re.search(r'<a href="(http://testserver/shared/[A-Za-z0-9_-]{32})">', manage.text)
    assert link, "no link on the page after sharing"
    assert "Withdraw the link now" in manage.text
    assert PASSCODE not in manage.text  # the passcode is not shown after sharing
    assert "Give the passcode another way" in manage.text
    (stored,) = shares(session)
    assert stored.expires_at - stored.created_at == dt.timedelta(days=30)

    doctor = TestClient(client.app)  # a fresh browser
    token = link.group(1).rsplit("/", 1)[1]
    ask = doctor.get(f"/shared/{token}")
    assert ask.status_code == 200
    assert 'type="password"' in ask.text
    assert SECRET_NOTE not in ask.text
    opened = open_share(doctor, token)
    assert opened.status_code == 200
    assert opened.headers["cache-control"] == "no-store"
    html = opened.text
    assert SECRET_NOTE in html
    assert "A fictional study of imaginary fever" in html
    assert nct_id in html
    assert "Able to walk 100 metres</blockquote>" in html
    assert "Ask whether the treadmill counts" in html
    assert "I use a stick on bad days" in html
    answers = re.findall(r'<span class="answer-(\w+)">([^<]+)</span>', html)
    assert answers == [
        ("yes", "Yes"), ("unsure", "Not sure"), ("none", "Not answered"), ("no", "No"),
        ("none", "Not answered"),
    ]  # fmt: skip
    for line in LINES:
        assert line in html
    assert '"Not sure" never rules anyone out' in html
    day = stored.created_at
    assert f"Shared {day.day} {day:%B %Y}" in html


def test_a_wrong_passcode_is_403_and_five_lock_the_link_for_15_minutes(
    client: TestClient, session: Session, nct_id: str, clock: Clock
) -> None:
    token, secret = shared(client, nct_id)
    for left in (4, 3, 2, 1):
        wrong = open_share(client, token, "not the passcode")
        assert wrong.status_code == 403
        assert "That passcode does not open these notes." in wrong.text
        assert f"{left} more tr" in wrong.text
        assert SECRET_NOTE not in wrong.text
    fifth = open_share(client, token, "still not it")
    assert fifth.status_code == 403
    assert "paused for 15 minutes" in fifth.text
    assert fifth.headers["retry-after"] == str(int(LOCKED_FOR.total_seconds()))
    assert 'name="passcode"' not in fifth.text  # no box to type into while paused
    manage = client.get(f"/shared/{token}/manage/{secret}")
    assert "the link is paused until" in manage.text
    # Locked: the right passcode too, and the page itself, answer 429 with Retry-After.
    right = open_share(client, token)
    assert right.status_code == 429
    assert SECRET_NOTE not in right.text
    assert 0 < int(right.headers["retry-after"]) <= LOCKED_FOR.total_seconds()
    assert client.get(f"/shared/{token}").status_code == 429
    clock.advance(LOCKED_FOR - dt.timedelta(seconds=5))
    assert client.get(f"/shared/{token}").status_code == 429
    clock.advance(dt.timedelta(seconds=10))
    again = open_share(client, token)
    assert again.status_code == 200
    assert SECRET_NOTE in again.text


def test_right_passcodes_do_not_use_up_tries(client: TestClient, nct_id: str) -> None:
    token, _ = shared(client, nct_id)
    for _ in range(8):
        assert open_share(client, token).status_code == 200
    assert open_share(client, token, "wrong one!").status_code == 403


def test_a_busy_server_asks_to_try_again_and_counts_no_try(
    client: TestClient, session: Session, nct_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = shared(client, nct_id)
    full = threading.BoundedSemaphore(1)
    full.acquire()
    monkeypatch.setattr(crypto, "_admitted", full)
    for _ in range(MAX_TRIES + 1):
        busy = open_share(client, token)
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "5"
        assert "please press the button again in a few seconds" in busy.text
    refused = share(client, nct_id)
    assert refused.status_code == 503
    assert "Nothing was lost" in refused.text
    assert len(shares(session)) == 1
    full.release()
    assert open_share(client, token).status_code == 200  # no try was used up


def test_passcode_checks_are_limited_per_client_address(
    client: TestClient, nct_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = shared(client, nct_id)
    monkeypatch.setattr(
        service, "OPEN_LIMIT", ratelimit.Limit("share-open-client", 3, OPEN_LIMIT.window)
    )
    for _ in range(3):
        assert open_share(client, token).status_code == 200
    refused = open_share(client, token)
    assert refused.status_code == 429
    assert "Many passcodes were tried from your connection" in refused.text
    assert int(refused.headers["retry-after"]) > 0


def test_revoke_needs_the_secret_and_then_the_link_is_gone(
    client: TestClient, session: Session, nct_id: str
) -> None:
    token, secret = shared(client, nct_id)
    manage = client.get(f"/shared/{token}/manage/{secret}")
    form = csrf_token(manage.text)
    assert f'name="secret" value="{secret}"' in manage.text
    wrong = client.post(f"/shared/{token}/revoke", data={"csrf_token": form, "secret": "x" * 32})
    assert wrong.status_code == 403
    assert open_share(client, token).status_code == 200
    assert client.get(f"/shared/{token}/manage/{'y' * 32}").status_code == 404
    done = client.post(
        f"/shared/{token}/revoke",
        data={"csrf_token": form, "secret": secret},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "The link is withdrawn" in after.text
    gone = client.get(f"/shared/{token}")
    assert gone.status_code == 410
    assert "withdrawn" in gone.text
    assert open_share(client, token).status_code == 410
    (stored,) = shares(session)
    assert stored.sealed is None
    assert stored.revoked_at is not None


def test_a_link_expires_after_the_days_chosen(
    client: TestClient, session: Session, nct_id: str, clock: Clock, settings: Settings,
    db_sessionmaker: sessionmaker[Session],
) -> None:  # fmt: skip
    token, _ = shared(client, nct_id, expires_days="2")
    clock.advance(dt.timedelta(days=2) - dt.timedelta(minutes=1))
    assert open_share(client, token).status_code == 200
    clock.advance(dt.timedelta(minutes=2))
    gone = client.get(f"/shared/{token}")
    assert gone.status_code == 410
    assert "The link has expired, and the notes were deleted." in gone.text
    (stored,) = shares(session)
    assert stored.sealed is None  # true when the page says it, before any purge
    assert open_share(client, token).status_code == 410
    # The daily purge wipes the notes of expired links; 30 days on, the link is unknown.
    purge(db_sessionmaker, settings=settings, now=clock.now)
    (stored,) = shares(session)
    assert stored.sealed is None
    assert client.get(f"/shared/{token}").status_code == 410
    purge(db_sessionmaker, settings=settings, now=clock.now + dt.timedelta(days=31))
    assert shares(session) == []
    assert client.get(f"/shared/{token}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"passcode": "short"}, "passcode", "at least 8 characters"),
        ({"passcode": "       x      "}, "passcode", "at least 8 characters"),
        ({"expires_days": "0"}, "expires_days", "from 1 to 90"),
        ({"expires_days": "91"}, "expires_days", "from 1 to 90"),
        ({"expires_days": "ten"}, "expires_days", "from 1 to 90"),
        ({"email_to": "doctor at clinic"}, "email_to", "email address"),
        ({"answer-1": "maybe"}, "answer-1", "Choose Yes, No or Not sure."),
    ],
)
def test_a_share_with_bad_fields_is_refused_with_a_message(
    client: TestClient, session: Session, nct_id: str, fields: dict[str, str], field: str,
    message: str,
) -> None:  # fmt: skip
    answer = share(client, nct_id, **fields)
    assert answer.status_code == 422
    assert message in answer.text
    assert f'id="{field}' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert shares(session) == []


def test_nothing_to_share_is_said_plainly(
    client: TestClient, session: Session, nct_id: str
) -> None:
    page = client.get(f"/studies/{nct_id}/notes")
    answer = client.post(
        f"/studies/{nct_id}/notes",
        data={"csrf_token": csrf_token(page.text), "action": "share", "passcode": PASSCODE},
    )
    assert answer.status_code == 422
    assert "There is nothing to share yet" in answer.text
    assert shares(session) == []


def test_sharing_is_limited_per_client_address(
    client: TestClient, session: Session, nct_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(SHARE_LIMIT.times):
        assert share(client, nct_id).status_code == 303
    # Over the limit, the passcode is not even derived: Argon2 is what the limit protects.
    derived: list[bytes] = []

    def seal(plain: bytes, passcode: str, *, context: bytes) -> str:
        derived.append(plain)
        return "sealed"

    monkeypatch.setattr(service, "seal", seal)
    refused = share(client, nct_id)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Nothing was shared" in refused.text
    assert derived == []
    assert len(shares(session)) == SHARE_LIMIT.times


def test_emailed_links_are_limited_per_recipient(
    client: TestClient, session: Session, nct_id: str
) -> None:
    for n in range(RECIPIENT_LIMIT.times):
        answer = share(client, nct_id, email_to=DOCTOR.upper() if n else DOCTOR)
        assert answer.status_code == 303
    refused = share(client, nct_id, email_to=DOCTOR)
    assert refused.status_code == 429
    assert share(client, nct_id, email_to="another.doctor@example.org").status_code == 303
    session.expire_all()
    sent = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "shared_notes"))
    assert len(list(sent)) == RECIPIENT_LIMIT.times + 1


@pytest.mark.parametrize(
    "path",
    [
        "/shared/nope",
        "/shared/" + "a" * 32,
        "/shared/" + "a" * 32 + "/manage/" + "b" * 32,
        "/shared/%00%ff",
        "/shared/" + "é" * 40,
    ],
)
def test_unknown_or_malformed_links_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
    token = csrf_token(client.get("/alerts").text)
    if "/manage/" not in path:
        posted = client.post(path, data={"csrf_token": token, "passcode": PASSCODE})
        assert posted.status_code == 404
        revoked = client.post(path + "/revoke", data={"csrf_token": token, "secret": "x"})
        assert revoked.status_code == 404


def test_the_link_can_be_emailed_without_the_passcode_and_erasure_revokes_it(
    client: TestClient, session: Session, nct_id: str, settings: Settings
) -> None:
    token, secret = shared(client, nct_id, email_to=DOCTOR)
    session.expire_all()
    (message,) = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "shared_notes"))
    assert message.recipients == [DOCTOR]
    body = f"{message.subject}\n{message.body_text}\n{message.body_html}"
    assert f"/shared/{token}" in body
    assert PASSCODE not in body
    assert SECRET_NOTE not in body
    assert secret not in body
    assert "imaginary fever" not in body.lower()  # not even the study
    assert "It is not in this email" in (message.body_text or "")
    manage = client.get(f"/shared/{token}/manage/{secret}")
    assert "We are also emailing the link" in manage.text

    removed = erase_person(session, DOCTOR, settings=settings, now=dt.datetime.now(dt.UTC))
    session.commit()
    assert removed.shares == 1
    assert client.get(f"/shared/{token}").status_code == 410
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_share_not_emailed_to_an_address_is_not_touched_by_its_erasure(
    client: TestClient, session: Session, nct_id: str, settings: Settings
) -> None:
    token, _ = shared(client, nct_id)
    removed = erase_person(session, DOCTOR, settings=settings, now=dt.datetime.now(dt.UTC))
    session.commit()
    assert removed.shares == 0
    assert open_share(client, token).status_code == 200


@pytest.fixture
def committed_client(
    settings: Settings, committed_sessionmaker: sessionmaker[Session]
) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.sessionmaker = committed_sessionmaker
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_copy_of_the_database_shows_no_note_text(
    committed_client: TestClient, committed_sessionmaker: sessionmaker[Session]
) -> None:
    study = f.study(criteria=CRITERIA)
    with committed_sessionmaker() as session:
        load(session, study)
        session.commit()
    nct = str(study["protocolSection"]["identificationModule"]["nctId"])
    token, secret = shared(committed_client, nct, email_to=DOCTOR)
    assert open_share(committed_client, token).status_code == 200
    engine = committed_sessionmaker.kw["bind"]
    raw = raw_database(engine)
    for secret_text in (SECRET_NOTE, "treadmill", "stick on bad days", PASSCODE, token, secret):
        assert secret_text.encode() not in raw, secret_text
    # The check can fail: the same copy does show what is stored in the clear.
    assert nct.encode() in raw


def contact_form_from_notes(client: TestClient, nct_id: str) -> tuple[str, str]:
    """The notes page's "Get in touch, taking my answers along": the contact form it opens,
    and that form's CSRF token."""
    page = client.get(f"/studies/{nct_id}/notes")
    assert "Get in touch, taking my answers along" in page.text
    form = client.post(
        f"/studies/{nct_id}/contact",
        data={
            "csrf_token": csrf_token(page.text),
            "handoff": "notes",
            "answer-1": "yes",
            "answer-4": "unsure",
            "answer-9": "yes",  # no such line: dropped
            "note": SECRET_NOTE,  # notes never travel
        },
    )
    assert form.status_code == 200
    assert "Please check the form" not in form.text
    return form.text, csrf_token(form.text)


def send_request(client: TestClient, nct_id: str, html: str, token: str, **extra: str) -> None:
    site = re.search(r'name="site" id="site-(\d+)"', html)
    assert site
    hidden = dict(re.findall(r'<input type="hidden" name="(answer-\d+)" value="(\w+)">', html))
    data = {
        "first_name": "Ana",
        "last_name": "Example",
        "email": "ana.example@example.com",
        "phone": "+1 202-456-1111",
        "site": site.group(1),
        "consent": "yes",
        "csrf_token": token,
        **hidden,
        **extra,
    }
    sent = client.post(f"/studies/{nct_id}/contact", data=data, follow_redirects=False)
    assert sent.status_code == 303, sent.text


def queued_one(session: Session, kind: str) -> OutboxMessage:
    return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).one()


@pytest.fixture
def contact_nct(session: Session) -> str:
    return loaded(
        session, criteria=CRITERIA, sites=[f.site(contacts=[{"email": "team@example.org"}])]
    )


def test_answers_go_to_the_site_only_when_the_patient_ticks_the_box(
    client: TestClient, session: Session, contact_nct: str
) -> None:
    html, token = contact_form_from_notes(client, contact_nct)
    assert re.findall(r'name="(answer-\d+)" value="(\w+)"', html) == [
        ("answer-1", "yes"),
        ("answer-4", "unsure"),
    ]
    assert 'name="include_answers" type="checkbox" value="yes" aria' in html  # not ticked
    assert "Also send my answers to the study's criteria (2 lines)" in html
    send_request(client, contact_nct, html, token, include_answers="yes")
    session.expire_all()
    site_email = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "contact_site")
    ).one()
    text = site_email.body_text or ""
    assert "Their answers to the study's criteria" in text
    assert f"- Yes: {LINES[0]}" in text
    assert f"- Not sure: {LINES[3]}" in text
    assert "Inclusion criteria:" in text
    assert "Exclusion criteria:" in text
    assert '"Not sure" never excludes anyone' in text
    assert "Not sure" in (site_email.body_html or "")
    assert SECRET_NOTE not in text
    copy = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "contact_patient")
    ).one()
    assert "Your answers to the study's criteria went along with your details (2 lines)" in (
        copy.body_text or ""
    )
    assert LINES[3] not in (copy.body_text or "")


def test_the_answers_go_when_the_email_is_delivered(
    client: TestClient, session: Session, contact_nct: str, settings: Settings,
    db_sessionmaker: sessionmaker[Session],
) -> None:  # fmt: skip
    html, token = contact_form_from_notes(client, contact_nct)
    send_request(client, contact_nct, html, token, include_answers="yes")
    sender = MemorySender()
    Worker(db_sessionmaker, sender, settings).run_once()
    (delivered,) = [mail for mail in sender.sent if mail.to == ("team@example.org",)]
    assert f"- Not sure: {LINES[3]}" in delivered.text
    session.expire_all()
    site_email = queued_one(session, "contact_site")
    assert site_email.body_text is None
    assert site_email.body_html is None


def test_nothing_personal_reaches_the_log(
    client: TestClient, nct_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token, secret = shared(client, nct_id, email_to=DOCTOR)
    open_share(client, token, "a wrong passcode")
    open_share(client, token)
    # Everything the application logged (the test's own HTTP client logs URLs: not ours).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert "notes shared for 30 days, link emailed" in logged
    for private in (PASSCODE, "a wrong passcode", SECRET_NOTE, DOCTOR, token, secret):
        assert private not in logged


def test_without_the_box_the_answers_stay_out_of_the_email(
    client: TestClient, session: Session, contact_nct: str
) -> None:
    html, token = contact_form_from_notes(client, contact_nct)
    send_request(client, contact_nct, html, token)
    session.expire_all()
    site_email = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "contact_site")
    ).one()
    assert "answers to the study's criteria" not in (site_email.body_text or "")
    assert LINES[3] not in (site_email.body_text or "")


def test_a_form_shown_again_keeps_the_answers_and_the_choice(
    client: TestClient, session: Session, contact_nct: str
) -> None:
    html, token = contact_form_from_notes(client, contact_nct)
    hidden = dict(re.findall(r'<input type="hidden" name="(answer-\d+)" value="(\w+)">', html))
    again = client.post(
        f"/studies/{contact_nct}/contact",
        data={"csrf_token": token, "include_answers": "yes", "first_name": "Ana", **hidden},
    )
    assert again.status_code == 422
    assert 'name="answer-4" value="unsure"' in again.text
    assert 'id="include_answers" name="include_answers" type="checkbox" value="yes" checked' in (
        again.text
    )


FIELD_NAMES = st.sampled_from(
    [
        "answer-1", "answer-2", "answer-5", "answer-0", "answer-99999", "note-1", "note-3",
        "note", "quote-1", "quote-note-1", "quote-31", "passcode", "expires_days", "email_to",
        "action", "handoff",
    ]
)  # fmt: skip


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.dictionaries(FIELD_NAMES, st.text(max_size=300), max_size=10),
    share_it=st.booleans(),
)
def test_any_notes_form_gets_a_page_never_an_error(
    client: TestClient, nct_id: str, fields: dict[str, str], share_it: bool
) -> None:
    page = client.get(f"/studies/{nct_id}/notes")
    data = {**fields, "csrf_token": csrf_token(page.text)}
    if share_it:
        data["action"] = "share"
    answer = client.post(f"/studies/{nct_id}/notes", data=data, follow_redirects=False)
    assert answer.status_code in (200, 303, 422, 429), answer.text[:500]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(passcode=st.text(max_size=400), secret=st.text(max_size=80))
def test_any_passcode_or_secret_gets_a_plain_answer(
    client: TestClient, nct_id: str, passcode: str, secret: str
) -> None:
    token, _ = SHARED_ONCE.get(client, nct_id)
    form = csrf_token(client.get("/alerts").text)
    tried = client.post(f"/shared/{token}", data={"csrf_token": form, "passcode": passcode})
    assert tried.status_code in (200, 403, 422, 429)
    revoked = client.post(f"/shared/{token}/revoke", data={"csrf_token": form, "secret": secret})
    assert revoked.status_code in (303, 403)


class _SharedOnce:
    """One share per test (hypothesis runs many examples in one test's fixtures)."""

    def __init__(self) -> None:
        self.made: dict[int, tuple[str, str]] = {}

    def get(self, client: TestClient, nct_id: str) -> tuple[str, str]:
        key = id(client)
        if key not in self.made:
            self.made[key] = shared(client, nct_id)
        return self.made[key]


SHARED_ONCE = _SharedOnce()


def test_a_study_without_criteria_lines_still_takes_a_note_and_shares_it(
    client: TestClient, session: Session
) -> None:
    nct = loaded(session, criteria="")
    page = client.get(f"/studies/{nct}/notes")
    assert "does not spell out its criteria line by line" in page.text
    assert 'name="answer-' not in page.text
    token, _ = shared(client, nct, **{"answer-1": "", "answer-2": "", "answer-4": ""})
    opened = open_share(client, token)
    assert SECRET_NOTE in opened.text
    assert "The study's criteria and the answers" not in opened.text


@pytest.mark.parametrize(
    "typed", ["Correct Horse Battery", "correct-horse-battery", " correct_horse  battery\u200b "]
)
def test_a_passcode_read_out_loud_opens_however_it_is_typed(
    client: TestClient, nct_id: str, typed: str
) -> None:
    token, _ = shared(client, nct_id)
    assert open_share(client, token, typed).status_code == 200
    assert open_share(client, token, "correct horse batteries").status_code == 403


def test_a_passcode_of_invisible_characters_is_refused(
    client: TestClient, session: Session, nct_id: str
) -> None:
    for invisible in ("\u200b" * 9, "\x00" * 10, "-_- . -_-"):
        answer = share(client, nct_id, passcode=invisible)
        assert answer.status_code == 422
        assert "at least 8 characters" in answer.text
    assert shares(session) == []


def test_an_empty_passcode_on_an_ended_or_paused_link_says_so(
    client: TestClient, nct_id: str
) -> None:
    paused, _ = shared(client, nct_id)
    for _ in range(MAX_TRIES):
        open_share(client, paused, "wrong wrong wrong")
    form = csrf_token(client.get("/alerts").text)
    empty = client.post(f"/shared/{paused}", data={"csrf_token": form, "passcode": " "})
    assert empty.status_code == 429
    assert "retry-after" in empty.headers
    revoked, secret = shared(client, nct_id)
    client.post(f"/shared/{revoked}/revoke", data={"csrf_token": form, "secret": secret})
    empty = client.post(f"/shared/{revoked}", data={"csrf_token": form, "passcode": ""})
    assert empty.status_code == 410
    live, _ = shared(client, nct_id)
    empty = client.post(f"/shared/{live}", data={"csrf_token": form, "passcode": ""})
    assert empty.status_code == 422
    assert "Type the passcode you were given." in empty.text


def test_lines_of_a_listing_without_headings_are_never_judged(
    client: TestClient, session: Session
) -> None:
    nct = loaded(session, criteria="* Adults who can walk\n* No heart attack in the last year")
    page = client.get(f"/studies/{nct}/notes")
    answer = client.post(
        f"/studies/{nct}/notes",
        data={"csrf_token": csrf_token(page.text), "answer-1": "yes", "answer-2": "yes"},
    )
    assert "You answered 2 of 2 lines." in answer.text
    assert "cannot be judged here: go through them with the study team" in answer.text
    assert "None of your answers raises a question" not in answer.text


def test_the_doctor_reads_the_registry_names_of_the_sections(
    client: TestClient, nct_id: str
) -> None:
    token, _ = shared(client, nct_id)
    html = open_share(client, token).text
    assert "<h3>Inclusion criteria</h3>" in html
    assert "<h3>Exclusion criteria</h3>" in html
    assert "You may be able to join if" not in html


def test_an_answer_in_error_is_linked_to_its_first_choice(client: TestClient, nct_id: str) -> None:
    answer = share(client, nct_id, **{"answer-1": "maybe"})
    assert '<a href="#answer-1-yes">Choose Yes, No or Not sure.</a>' in answer.text
    assert 'id="answer-1-yes"' in answer.text
