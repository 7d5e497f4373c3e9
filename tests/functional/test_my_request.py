"""The patient's "see or withdraw my request" link, used as a patient would, through HTTP.

A request is made through the real form; its link is read from the patient's copy;
the page, the copy of what is stored and the withdrawal are then checked from the
outside, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.contact.consent import CONSENT_VERSION, wording
from app.contact.models import ContactRequest
from app.outbox.email.senders import FileSender
from app.outbox.models import OutboxMessage
from app.outbox.worker import Worker
from app.privacy.requests import CSRF_MESSAGE
from tests import factories as f
from tests.conftest import load
from tests.functional.test_contact import counts, good_form, nct, site_id, token

SITE_EMAIL = "dana@example.org"
SITE_NAME = "Near Clinic, Evanston, Illinois, United States"
STUDY_TITLE = "Breathing exercises for adults with asthma"
# What the patient types; the phone is stored in E.164.
TYPED = {
    "first_name": "Marisol",
    "last_name": "Quimby",
    "email": "marisol.quimby@example.net",
    "phone": "(202) 456-1111",
    "language": "pt",
}
STORED_PHONE = "+12024561111"
SHOWN_PHONE = "+1 202-456-1111"  # how pages show it
GONE = "We hold no request for this link"
ORIGIN = '(?:https?://[^/"]+)?'  # links to the app's own pages may be absolute


@pytest.fixture
def study(session: Session) -> dict[str, Any]:
    record = f.study(
        title=STUDY_TITLE,
        sites=[
            f.site(
                facility="Near Clinic",
                city="Evanston",
                lat=42.05,
                lon=-87.69,
                contacts=[{"name": "Dana Example", "role": "CONTACT", "email": SITE_EMAIL}],
            )
        ],
    )
    load(session, record)
    return record


def submit(client: TestClient, session: Session, record: dict[str, Any], settings: Settings) -> str:
    """Make a request through the form; return the token of the link in the patient's copy."""
    page = client.get(f"/studies/{nct(record)}/contact")
    form = good_form(site_id(session, record, "Near Clinic"), token(page.text), **TYPED)
    response = client.post(f"/studies/{nct(record)}/contact", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    session.expire_all()
    copy = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "contact_patient")
    ).one()
    base_url = settings.base_url.rstrip("/")
    link = re.search(
        rf"{re.escape(base_url)}/requests/([A-Za-z0-9_-]{{43}})\b", copy.body_text or ""
    )
    assert link, "the patient's copy has no link to their request"
    return link.group(1)


@pytest.fixture
def link(client: TestClient, session: Session, study: dict[str, Any], settings: Settings) -> str:
    return submit(client, session, study, settings)


def stored(session: Session) -> ContactRequest:
    session.expire_all()
    return session.scalars(select(ContactRequest)).one()


def messages(session: Session) -> dict[str, OutboxMessage]:
    session.expire_all()
    found = list(session.scalars(select(OutboxMessage)))
    by_kind = {m.kind: m for m in found}
    assert len(by_kind) == len(found), "two messages of one kind"
    return by_kind


def withdraw_token(client: TestClient, link: str) -> str:
    return token(client.get(f"/requests/{link}").text)


def deliver_everything(db_sessionmaker: sessionmaker[Session], settings: Settings) -> int:
    """Run the worker once with the file backend, as `trialfinder worker --once` would."""
    worker = Worker(db_sessionmaker, FileSender(settings.mail_dir), settings, name="test")
    return worker.run_once().sent


def test_the_page_shows_what_was_sent_and_to_whom(
    client: TestClient, session: Session, link: str
) -> None:
    page = client.get(f"/requests/{link}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    text = page.text
    for shown in (
        "Marisol Quimby",
        TYPED["email"],
        SHOWN_PHONE,
        STUDY_TITLE,
        stored(session).nct_id,
        f"the research team at {SITE_NAME}",
        SITE_EMAIL,
        wording(CONSENT_VERSION),
        CONSENT_VERSION,
        "is waiting to be sent",  # the site's email is still queued
    ):
        assert shown in text, shown
    assert STORED_PHONE not in text
    assert re.search(rf'href="{ORIGIN}/requests/{link}/copy"', text)
    assert re.search(rf'<form method="post" action="{ORIGIN}/requests/{link}/withdraw"', text)
    assert token(text)


def test_the_copy_is_a_json_file_of_what_was_typed(
    client: TestClient, session: Session, link: str, settings: Settings
) -> None:
    request = stored(session)
    response = client.get(f"/requests/{link}/copy")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"trialfinder-request-{request.public_id}.json" in disposition
    assert response.headers["cache-control"] == "no-store"
    copy = json.loads(response.text)
    assert copy["you"] == {
        "first_name": TYPED["first_name"],
        "last_name": TYPED["last_name"],
        "email": TYPED["email"],
        "phone": STORED_PHONE,
        "preferred_language": "Portuguese",
    }
    assert copy["reference"] == request.public_id
    assert copy["study"] == {"nct_id": request.nct_id, "title": STUDY_TITLE}
    assert copy["sent_to"] == {
        "team": f"the research team at {SITE_NAME}",
        "email": SITE_EMAIL,
        "routing": "site",
    }
    assert copy["consent"]["wording_version"] == CONSENT_VERSION
    assert copy["consent"]["wording"] == wording(CONSENT_VERSION)
    assert copy["email_to_the_team"]["status"] == "queued"
    assert copy["email_to_the_team"]["message_id"] == messages(session)["contact_site"].message_id
    assert copy["deleted_after_days"] == settings.retention_days


def test_withdrawing_a_request_not_yet_sent_deletes_it_and_tells_no_one(
    client: TestClient, session: Session, link: str
) -> None:
    assert counts(session) == (1, 2)
    assert set(messages(session)) == {"contact_site", "contact_patient"}
    csrf_token = withdraw_token(client, link)
    response = client.post(
        f"/requests/{link}/withdraw", data={"csrf_token": csrf_token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/requests/withdrawn?told=0"
    assert counts(session) == (0, 0)  # no note: the site's email never left
    done = client.get(response.headers["location"])
    assert done.status_code == 200
    assert done.headers["cache-control"] == "no-store"
    assert "We have deleted your details" in done.text
    assert "asked the research team" not in done.text
    for gone in (
        client.get(f"/requests/{link}"),
        client.get(f"/requests/{link}/copy"),
        # A double click: the same form, the same token.
        client.post(f"/requests/{link}/withdraw", data={"csrf_token": csrf_token}),
    ):
        assert gone.status_code == 404
        assert GONE in gone.text
        assert gone.headers["cache-control"] == "no-store"


def test_withdrawing_after_delivery_removes_the_mail_files_and_asks_the_site_to_delete(
    client: TestClient,
    session: Session,
    link: str,
    db_sessionmaker: sessionmaker[Session],
    settings: Settings,
) -> None:
    request = stored(session)
    public_id = request.public_id
    ids = [m.message_id for m in messages(session).values()]
    files = [FileSender(settings.mail_dir).path_for(message_id) for message_id in ids]
    assert not any(path.exists() for path in files)
    assert deliver_everything(db_sessionmaker, settings) == 2
    assert all(path.exists() for path in files)
    assert {m.status for m in messages(session).values()} == {"sent"}
    page = client.get(f"/requests/{link}")
    assert f"We emailed your details to the research team at {SITE_NAME}" in page.text

    response = client.post(
        f"/requests/{link}/withdraw", data={"csrf_token": token(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/requests/withdrawn?told=1"
    assert not any(path.exists() for path in files)
    session.expire_all()
    assert session.scalars(select(ContactRequest)).all() == []
    (note,) = session.scalars(select(OutboxMessage)).all()
    assert note.kind == "contact_deletion"
    assert note.status == "queued"
    assert note.contact_request_id is None
    assert note.recipients == [SITE_EMAIL]
    assert note.message_id not in ids
    assert public_id in (note.subject or "")
    assert public_id in (note.body_text or "")
    written = " ".join(part or "" for part in (note.subject, note.body_text, note.body_html))
    for personal in (
        TYPED["first_name"],
        TYPED["last_name"],
        TYPED["email"],
        TYPED["email"].split("@")[0],
        STORED_PHONE,
        "456-1111",
    ):
        assert personal not in written, personal
    done = client.get(response.headers["location"])
    assert "We have asked the research team to delete the details we sent them." in done.text
    assert client.get(f"/requests/{link}").status_code == 404


def test_a_site_email_being_sent_counts_as_sent(
    client: TestClient, session: Session, link: str
) -> None:
    """A worker may be in the middle of the SMTP conversation: the site may get the email."""
    session.execute(
        update(OutboxMessage).where(OutboxMessage.kind == "contact_site").values(status="sending")
    )
    session.commit()
    response = client.post(
        f"/requests/{link}/withdraw",
        data={"csrf_token": withdraw_token(client, link)},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/requests/withdrawn?told=1"
    session.expire_all()
    kinds = [m.kind for m in session.scalars(select(OutboxMessage))]
    assert kinds == ["contact_deletion"]
    assert session.scalars(select(ContactRequest)).all() == []


@pytest.mark.parametrize(
    ("csrf_token", "headers"),
    [
        (None, {}),
        ("forged", {}),
        ("valid", {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}),
    ],
)
def test_a_withdrawal_without_a_valid_csrf_token_changes_nothing(
    client: TestClient,
    session: Session,
    link: str,
    csrf_token: str | None,
    headers: dict[str, str],
) -> None:
    valid = withdraw_token(client, link)
    data: dict[str, str] = {}
    if csrf_token is not None:
        data["csrf_token"] = valid if csrf_token == "valid" else csrf_token
    response = client.post(
        f"/requests/{link}/withdraw", data=data, headers=headers, follow_redirects=False
    )
    assert response.status_code == 403
    assert CSRF_MESSAGE in response.text
    assert "Marisol Quimby" in response.text  # the page again, not a bare error
    assert re.search(rf'action="{ORIGIN}/requests/{link}/withdraw"', response.text)
    assert response.headers["cache-control"] == "no-store"
    assert counts(session) == (1, 2)
    assert client.get(f"/requests/{link}").status_code == 200
    # The page that refused it carries a fresh token that works.
    again = client.post(
        f"/requests/{link}/withdraw",
        data={"csrf_token": token(response.text)},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert counts(session) == (0, 0)


def assert_gone(response: httpx2.Response) -> None:
    assert response.status_code == 404, (response.request.url, response.status_code)
    assert GONE in response.text
    assert response.headers["cache-control"] == "no-store"


def test_links_of_the_wrong_shape_or_unknown_are_404(
    client: TestClient, session: Session, link: str
) -> None:
    changed = ("A" if link[0] != "A" else "B") + link[1:]
    for bad in (
        "nope",
        changed,  # well formed, unknown
        link[:-1],
        link + "A",
        link.swapcase(),
        link + "\n",
        link + "%00",
        "%00" * 43,
        "a" * 10_000,
        "é" * 43,
        "ä" + link[1:],
        "%FF" * 43,
        "日本語",
        "withdrawn%20",
    ):
        segment = bad if "%" in bad else quote(bad, safe="")
        assert_gone(client.get(f"/requests/{segment}"))
        assert_gone(client.get(f"/requests/{segment}/copy"))
        assert_gone(
            client.post(
                f"/requests/{segment}/withdraw", data={"csrf_token": withdraw_token(client, link)}
            )
        )
    assert counts(session) == (1, 2)


def not_a_route_of_its_own(segment: str) -> bool:
    # ".." would be resolved by the client, and /requests/withdrawn is a real page.
    return segment not in {".", "..", "withdrawn"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    segment=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=300).filter(
        not_a_route_of_its_own
    )
)
def test_fuzzed_links_are_404_never_500(client: TestClient, segment: str) -> None:
    """Any link but a real one: 404; a post whose form token is forged: 403 (or 404 where
    the encoded segment makes another path, such as one with a slash)."""
    path = f"/requests/{quote(segment, safe='')}"
    for response in (client.get(path), client.get(f"{path}/copy")):
        assert response.status_code == 404, (segment, response.status_code, response.text[:200])
        assert response.headers["cache-control"] == "no-store"
    posted = client.post(f"{path}/withdraw", data={"csrf_token": "x"})
    assert posted.status_code in (403, 404), (segment, posted.status_code)
    assert posted.status_code == 404 or GONE in posted.text
