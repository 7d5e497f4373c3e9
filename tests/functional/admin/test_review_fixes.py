"""Admin edge cases: no-op saves, edits and imports together, odd ids, filters, audit detail."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.models import AdminUser, AuditEvent
from app.outbox.models import OutboxMessage
from app.studies.models import Site, Study
from tests import factories as f
from tests.conftest import load
from tests.functional.admin.helpers import log_in, token
from tests.functional.admin.test_admin import submit


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def form_of(client: TestClient, path: str) -> dict[str, str]:
    """The edit form's current values, as a browser would send them back (CRLF lines)."""
    text = client.get(path).text
    values = dict(re.findall(r'name="(\w+)" type="text"[^>]*value="([^"]*)"', text))
    for name, body in re.findall(
        r'<textarea id="\w+" name="(\w+)"[^>]*>(.*?)</textarea>', text, re.S
    ):
        values[name] = body.replace("\n", "\r\n")
    for name, chosen in re.findall(
        r'<select id="\w+" name="(\w+)"[^>]*>.*?<option value="([^"]*)" selected', text, re.S
    ):
        values[name] = chosen
    values["csrf_token"] = token(text)
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in values.items()}


def test_saving_an_unchanged_study_changes_nothing(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study(criteria="Inclusion Criteria:\n\n* Adults\n* Able to walk")
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    log_in(client)
    response = client.post(
        f"/admin/studies/{study.id}",
        data=form_of(client, f"/admin/studies/{study.id}"),
        follow_redirects=False,
    )
    assert response.status_code == 303
    session.expire_all()
    assert study.admin_overrides == {}
    assert [e.action for e in session.scalars(select(AuditEvent))] == ["login"]


def test_editing_one_field_leaves_search_to_follow_the_registry(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study(title="Old title", conditions=("Gastric Cancer",))
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    log_in(client)
    values = form_of(client, f"/admin/studies/{study.id}")
    client.post(f"/admin/studies/{study.id}", data={**values, "brief_title": "Plain new title"})
    record["protocolSection"]["conditionsModule"]["conditions"] = ["Quokkafever Syndrome"]
    load(session, record)
    found = client.get("/api/v1/studies", params={"condition": "quokkafever"}).json()
    assert [r["nct_id"] for r in found["results"]] == [study.nct_id]
    assert found["results"][0]["title"] == "Plain new title"
    assert client.get("/api/v1/studies", params={"condition": "gastric"}).json()["total"] == 0


def test_a_renamed_registry_site_is_not_duplicated_and_a_fixed_address_survives(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study(
        sites=[
            f.site(facility="Riverside Hospital", contacts=[{"email": "old@example.org"}]),
            f.site(facility="Hilltop Clinic", contacts=[]),
        ]
    )
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    riverside = next(s for s in study.sites if s.facility == "Riverside Hospital")
    hilltop = next(s for s in study.sites if s.facility == "Hilltop Clinic")
    log_in(client)
    values = form_of(client, f"/admin/sites/{riverside.id}")
    client.post(
        f"/admin/sites/{riverside.id}",
        data={**values, "facility": "Riverside Hospital (Main Campus)"},
    )
    page = client.get(f"/admin/studies/{study.id}").text
    client.post(
        f"/admin/sites/{hilltop.id}/contact-email",
        data={"email": "hilltop@example.org", "csrf_token": token(page), "back": "/admin"},
    )
    record["protocolSection"]["descriptionModule"]["briefSummary"] = "Changed upstream."
    load(session, record)
    session.expire_all()
    names = sorted((s.facility, (s.contacts or [{}])[0].get("email")) for s in study.sites)
    assert names == [
        ("Hilltop Clinic", "hilltop@example.org"),
        ("Riverside Hospital (Main Campus)", "old@example.org"),
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/studies/99999999999999999999",
        "/admin/sites/3000000000",
        "/admin/requests/3000000000",
        "/admin/imports/3000000000",
        "/admin/studies?page=9999999999999999999",
    ],
)
def test_absurd_ids_and_pages_are_refused_not_crashed(
    client: TestClient, admin: AdminUser, path: str
) -> None:
    log_in(client)
    assert client.get(path).status_code == 422


def test_control_characters_in_filters_and_login_are_harmless(
    client: TestClient, admin: AdminUser
) -> None:
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": "a\x00@x.org", "password": "x", "csrf_token": token(page.text)},
    )
    assert response.status_code == 401
    log_in(client)
    assert client.get("/admin/studies", params={"q": "\x00"}).status_code == 200
    assert (
        client.get("/admin/requests", params={"study": "\x00", "site": "9" * 30}).status_code == 200
    )


def test_control_characters_in_a_title_are_refused(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study()
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    log_in(client)
    values = form_of(client, f"/admin/studies/{study.id}")
    response = client.post(
        f"/admin/studies/{study.id}", data={**values, "brief_title": "a\x01\x1bb"}
    )
    assert response.status_code == 422
    assert "control characters" in response.text


def test_flagged_requests_are_not_listed_as_sent(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    flagged = submit(session, contacts=[])
    for message in session.scalars(select(OutboxMessage)):
        message.status = "sent"
    session.commit()
    log_in(client)
    assert flagged.nct_id not in client.get("/admin/requests", params={"state": "sent"}).text
    assert flagged.nct_id in client.get("/admin/requests", params={"state": "flagged"}).text


def test_admin_errors_say_why_in_the_admin_layout(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study()
    load(session, record)
    site = session.scalars(select(Site)).first()
    assert site is not None
    log_in(client)
    page = client.get("/admin").text
    response = client.post(
        f"/admin/sites/{site.id}/contact-email",
        data={"email": "not an address", "csrf_token": token(page)},
    )
    assert response.status_code == 422
    assert "That email address is not valid" in response.text
    assert "TrialFinder admin" in response.text
    assert (
        client.post("/admin/outbox/999999/retry", data={"csrf_token": token(page)}).status_code
        == 404
    )


def test_failed_logins_are_audited_without_free_text_and_logins_with_the_address(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    log_in(client, email="<script>spam</script>@example.org", password="nope nope nope")
    log_in(client)
    events = [
        (e.actor, e.action, e.details.get("address"))
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
    ]
    assert events[0][:2] == ("unknown account", "login_failed")
    assert events[1][:2] == ("admin@example.org", "login")
    assert events[1][2]


def test_anonymous_and_oversized_admin_posts_are_refused_before_the_body(
    client: TestClient,
) -> None:
    assert (
        client.post(
            "/admin/imports/upload",
            content=b"x" * 1000,
            headers={"Content-Type": "application/octet-stream"},
        ).status_code
        == 403
    )
    huge = client.post(
        "/admin/imports/upload", content=b"x", headers={"Content-Length": str(300 * 1024 * 1024)}
    )
    assert huge.status_code in (400, 413)
