"""Patients' personal data in the admin area: masked in lists, whole only on a request's
own page (and that opening audited), erased on request, gone from resolved mail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.addresses import address_key
from app.admin.models import AdminUser, AuditEvent
from app.config import Settings
from app.contact.forms import ContactSubmission
from app.contact.models import ContactRequest
from app.contact.service import submit_contact_request
from app.outbox.email.senders import FileSender
from app.outbox.models import OutboxMessage
from app.outbox.worker import Worker
from app.studies.models import Study
from tests import factories as f
from tests.conftest import load
from tests.functional.admin.helpers import EMAIL, log_in, token

SITE_EMAIL = "dana@example.org"


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164, as stored

    @property
    def local_part(self) -> str:
        return self.email.split("@")[0]


MARISOL = Person("Marisol", "Quimby", "marisol.quimby@example.net", "+12024561111")
TOBIAS = Person("Tobias", "Wren", "tobias.wren@example.com", "+13125550188")
# How the lists show Marisol (app/masking.py).
MARISOL_MASKED = ("m•••@e•••.net", "+1•••11", "Marisol Q.")


def request_by(session: Session, settings: Settings, person: Person) -> ContactRequest:
    """A request from `person` to a new study's one site, stored as the contact form would."""
    record = f.study(sites=[f.site(facility="Harbor Clinic", contacts=[{"email": SITE_EMAIL}])])
    load(session, record)
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    study = session.scalars(select(Study).where(Study.nct_id == nct_id)).one()
    site = study.sites[0]
    submission = ContactSubmission(
        person.first_name, person.last_name, person.email, person.phone, None, site.id, True
    )
    submitted = submit_contact_request(
        session,
        study=study,
        site=site,
        submission=submission,
        settings=settings,
        now=dt.datetime.now(dt.UTC),
    )
    session.commit()
    assert submitted.created
    return submitted.request


def deliver_everything(db_sessionmaker: sessionmaker[Session], settings: Settings) -> int:
    worker = Worker(db_sessionmaker, FileSender(settings.mail_dir), settings, name="test")
    return worker.run_once().sent


def audit_events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def requests_of(session: Session, person: Person) -> list[ContactRequest]:
    session.expire_all()
    return list(
        session.scalars(
            select(ContactRequest).where(ContactRequest.email_key == address_key(person.email))
        )
    )


def test_the_requests_list_masks_email_phone_and_name(
    client: TestClient, session: Session, settings: Settings, admin: AdminUser
) -> None:
    request = request_by(session, settings, MARISOL)
    log_in(client)
    page = client.get("/admin/requests")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert request.nct_id in page.text
    for masked in MARISOL_MASKED:
        assert masked in page.text, masked
    for whole in (MARISOL.email, MARISOL.local_part, MARISOL.phone, "2024561111", "Quimby"):
        assert whole not in page.text, whole


def test_the_email_filter_finds_requests_by_address_in_any_case(
    client: TestClient, session: Session, settings: Settings, admin: AdminUser
) -> None:
    marisol = request_by(session, settings, MARISOL)
    tobias = request_by(session, settings, TOBIAS)
    log_in(client)
    everyone = client.get("/admin/requests").text
    assert marisol.nct_id in everyone
    assert tobias.nct_id in everyone

    found = client.get("/admin/requests", params={"email": "  Marisol.QUIMBY@Example.NET "})
    assert found.status_code == 200
    assert "1 request," in found.text
    assert marisol.nct_id in found.text
    assert tobias.nct_id not in found.text
    assert MARISOL_MASKED[0] in found.text

    nobody = client.get("/admin/requests", params={"email": "marisol.quimby@example.com"})
    assert "0 requests" in nobody.text
    assert "No contact requests match." in nobody.text
    assert marisol.nct_id not in nobody.text
    assert tobias.nct_id not in nobody.text


def test_opening_a_request_shows_its_details_and_is_audited_each_time(
    client: TestClient, session: Session, settings: Settings, admin: AdminUser
) -> None:
    request = request_by(session, settings, MARISOL)
    log_in(client)
    client.get("/admin/requests")
    assert audit_events(session, "request.open") == []  # the masked list is not an opening

    page = client.get(f"/admin/requests/{request.id}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    for whole in ("Marisol Quimby", MARISOL.email, "+1 202-456-1111"):
        assert whole in page.text, whole
    assert MARISOL.phone not in page.text  # shown in the international format
    (opened,) = audit_events(session, "request.open")
    assert opened.target == f"contact_request:{request.public_id}"
    assert opened.actor == EMAIL

    client.get(f"/admin/requests/{request.id}")
    assert len(audit_events(session, "request.open")) == 2


def test_erasing_a_person_removes_all_their_requests_and_no_one_elses(
    client: TestClient,
    session: Session,
    settings: Settings,
    db_sessionmaker: sessionmaker[Session],
    admin: AdminUser,
) -> None:
    first = request_by(session, settings, MARISOL)
    reference = first.public_id
    delivered = [
        m.message_id
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.contact_request_id == first.id)
        )
    ]
    assert deliver_everything(db_sessionmaker, settings) == 2
    files = [FileSender(settings.mail_dir).path_for(message_id) for message_id in delivered]
    assert all(path.exists() for path in files)
    second = request_by(session, settings, MARISOL)  # another study, still queued
    other = request_by(session, settings, TOBIAS)
    assert first.nct_id != second.nct_id
    log_in(client)
    page = client.get(f"/admin/requests/{second.id}")

    refused = client.post(f"/admin/requests/{second.id}/erase", data={})
    assert refused.status_code == 403
    assert len(requests_of(session, MARISOL)) == 2

    erased = client.post(
        f"/admin/requests/{second.id}/erase", data={"csrf_token": token(page.text)}
    )
    assert erased.status_code == 200
    for line in (
        "2 contact requests",
        "4 emails in the queue",
        "2 mail files written by the file backend",
        "1 site will be asked to delete the details",
    ):
        assert line in erased.text, line
    for whole in (MARISOL.email, MARISOL.local_part, MARISOL.phone, "Quimby"):
        assert whole not in erased.text, whole

    assert requests_of(session, MARISOL) == []
    assert not any(path.exists() for path in files)
    assert [r.id for r in requests_of(session, TOBIAS)] == [other.id]
    left = {m.kind: m for m in session.scalars(select(OutboxMessage))}
    assert sorted(left) == ["contact_deletion", "contact_patient", "contact_site"]
    assert left["contact_patient"].contact_request_id == other.id
    assert left["contact_site"].contact_request_id == other.id
    note = left["contact_deletion"]
    assert (note.recipients, note.contact_request_id) == ([SITE_EMAIL], None)
    assert reference in (note.body_text or "")

    (event,) = audit_events(session, "privacy.erase")
    assert event.details == {
        "removed": {
            "requests": 2,
            "messages": 4,
            "mail_files": 2,
            "notes_to_sites": 1,
            "alerts": 0,
            "shares": 0,
        }
    }
    recorded = f"{event.target} {event.details}"
    assert MARISOL.email not in recorded
    assert MARISOL.local_part not in recorded
    assert address_key(MARISOL.email) not in recorded


def test_resolving_a_failed_message_deletes_its_content(
    client: TestClient, session: Session, settings: Settings, admin: AdminUser
) -> None:
    request = request_by(session, settings, MARISOL)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == "contact_patient")
        .values(status="failed", last_error="550 5.1.1 mailbox unavailable")
    )
    session.commit()
    by_kind = {m.kind: m for m in session.scalars(select(OutboxMessage))}
    failed, queued = by_kind["contact_patient"], by_kind["contact_site"]
    assert failed.recipients == [MARISOL.email]
    log_in(client)
    page = client.get("/admin/outbox", params={"status": "failed"})
    assert f"/admin/outbox/{failed.id}/resolve" in page.text
    csrf_token = token(page.text)

    for message in (failed, queued):  # resolving is for failed messages only
        response = client.post(
            f"/admin/outbox/{message.id}/resolve",
            data={"csrf_token": csrf_token, "back": "/admin/outbox"},
            follow_redirects=False,
        )
        assert response.status_code == 303
    session.expire_all()
    resolved = session.get(OutboxMessage, failed.id)
    assert resolved is not None
    assert resolved.status == "resolved"
    assert (resolved.recipients, resolved.reply_to, resolved.subject) == (None, None, None)
    assert (resolved.body_text, resolved.body_html) == (None, None)
    assert queued.status == "queued"
    assert queued.recipients == [SITE_EMAIL]
    assert queued.body_text
    assert MARISOL.email in queued.body_text  # the site's copy still names the patient
    (event,) = audit_events(session, "outbox.resolve")
    assert event.target == f"outbox_message:{failed.id}"
    assert session.get(ContactRequest, request.id) is not None


def test_the_outbox_masks_recipients_and_delivered_mail_shows_none(
    client: TestClient,
    session: Session,
    settings: Settings,
    db_sessionmaker: sessionmaker[Session],
    admin: AdminUser,
) -> None:
    request_by(session, settings, MARISOL)
    assert deliver_everything(db_sessionmaker, settings) == 2
    request_by(session, settings, MARISOL)  # queued: its content is still there
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
    log_in(client)
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.text.count('<span class="small">removed</span>') == 2  # the delivered pair
    assert MARISOL_MASKED[0] in page.text
    assert "d•••@e•••.org" in page.text  # the site's address is masked too
    for whole in (MARISOL.email, MARISOL.local_part, MARISOL.phone):
        assert whole not in page.text, whole
    queued = client.get("/admin/outbox", params={"status": "queued"}).text
    assert queued.count(MARISOL_MASKED[0]) == 1
    assert MARISOL.email not in queued


def test_login_attempts_keep_what_was_typed_only_when_it_names_an_account(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    from app.admin.auth import UNKNOWN_ACCOUNT
    from app.admin.models import LoginAttempt

    typed = "someone.else@example.net"
    assert log_in(client, email=typed, password="a wrong guess at it").status_code == 401
    assert log_in(client, email=EMAIL, password="a wrong guess at it").status_code == 401
    stored = [a.email for a in session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))]
    assert stored == [UNKNOWN_ACCOUNT, EMAIL]
