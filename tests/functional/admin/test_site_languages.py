"""Administrators record the languages a site's team speaks; patients see them; imports
keep them and still update the site from the registry."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.models import AdminUser, AuditEvent
from app.studies.models import Site
from tests import factories as f
from tests.conftest import load
from tests.functional.admin.helpers import log_in, token

CONTACTS = [{"name": "Dana Example", "email": "dana@example.org"}]


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def test_languages_are_recorded_shown_marked_and_kept_by_imports(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study(sites=[f.site(facility="Lakeside Clinic", contacts=CONTACTS)])
    load(session, record)
    site = session.scalars(select(Site)).one()
    assert log_in(client).status_code == 303
    page = client.get(f"/admin/sites/{site.id}")
    assert "Other languages the team speaks" in page.text
    saved = client.post(
        f"/admin/sites/{site.id}/languages",
        data={"csrf_token": token(page.text), "language": ["es", "pt", "xx"]},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    session.expire_all()
    site = session.scalars(select(Site)).one()
    assert site.languages == ["es", "pt"]  # an unknown code is not stored
    assert site.admin_managed is False  # not taken over from the registry
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "site.languages")).one()
    assert event.details["after"] == ["es", "pt"]

    study_page = client.get(f"/studies/{nct(record)}").text
    assert "Other languages supported: Spanish, Portuguese" in study_page
    form = client.get(f"/studies/{nct(record)}/contact", params={"language": "pt"}).text
    assert "Other languages supported: Spanish, Portuguese" in form
    assert re.search(r'class="badge badge-language">Speaks Portuguese<', form)
    other = client.get(f"/studies/{nct(record)}/contact", params={"language": "de"}).text
    assert "Speaks" not in other

    # The registry changes the site's status: the import updates it and keeps the languages.
    record["protocolSection"]["contactsLocationsModule"]["locations"][0]["status"] = (
        "NOT_YET_RECRUITING"
    )
    load(session, record)
    session.expire_all()
    site = session.scalars(select(Site)).one()
    assert site.status == "NOT_YET_RECRUITING"
    assert site.languages == ["es", "pt"]


def test_recording_languages_needs_a_form_token(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    load(session, f.study(sites=[f.site(facility="Lakeside Clinic", contacts=CONTACTS)]))
    site = session.scalars(select(Site)).one()
    assert log_in(client).status_code == 303
    refused = client.post(f"/admin/sites/{site.id}/languages", data={"language": "es"})
    assert refused.status_code == 403
    session.expire_all()
    assert session.scalars(select(Site)).one().languages == []
