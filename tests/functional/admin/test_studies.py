"""Editing studies and sites in the admin area, and what imports do to the edits."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.models import AdminUser, AuditEvent
from app.studies.models import Site, Study
from tests import factories as f
from tests.conftest import load
from tests.functional.admin.helpers import log_in, token

STUDY_FORM = {
    "brief_title": "A fictional study of calm breathing",
    "overall_status": "RECRUITING",
    "conditions": "Panic Disorder\nAnxiety",
    "keywords": "",
    "brief_summary": "Fictional.",
    "sex": "ALL",
    "min_age": "18 Years",
    "max_age": "",
    "healthy_volunteers": "",
    "eligibility_criteria": "Inclusion Criteria:\n\n* Adults",
}


def post(client: TestClient, path: str, data: dict[str, str], page: str | None = None) -> Any:
    text = client.get(page or path).text
    return client.post(path, data={**data, "csrf_token": token(text)}, follow_redirects=False)


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def test_list_search_and_filter(client: TestClient, session: Session, admin: AdminUser) -> None:
    load(
        session,
        f.study(title="Walking after knee surgery"),
        f.study(title="Sleep and memory", status="COMPLETED"),
    )
    log_in(client)
    assert "2 studies" in client.get("/admin/studies").text
    page = client.get("/admin/studies", params={"q": "knee"}).text
    assert "Walking after knee surgery" in page
    assert "Sleep and memory" not in page
    page = client.get("/admin/studies", params={"status": "COMPLETED"}).text
    assert "Sleep and memory" in page
    assert "Walking after knee surgery" not in page


def test_create_a_study_with_validation(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    log_in(client)
    bad = post(
        client,
        "/admin/studies/new",
        {**STUDY_FORM, "nct_id": "NCT123", "brief_title": "", "min_age": "abc"},
    )
    assert bad.status_code == 422
    for message in ("NCT followed by 8 digits", "This is required.", '"18 Years"'):
        assert message in bad.text
    assert 'value="abc"' in bad.text
    ok = post(client, "/admin/studies/new", {**STUDY_FORM, "nct_id": "nct98123456"})
    assert ok.status_code == 303
    results = client.get("/api/v1/studies", params={"condition": "panic", "age": 30}).json()
    assert [r["nct_id"] for r in results["results"]] == ["NCT98123456"]
    duplicate = post(client, "/admin/studies/new", {**STUDY_FORM, "nct_id": "NCT98123456"})
    assert "exists already" in duplicate.text


def test_an_edit_survives_the_next_import_until_undone(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study(title="Original title", conditions=("Migraine",))
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    log_in(client)
    form = {
        **STUDY_FORM,
        "brief_title": "A clearer title for patients",
        "conditions": "Migraine\nHeadache",
    }
    assert post(client, f"/admin/studies/{study.id}", form).status_code == 303
    assert "A clearer title for patients" in client.get(f"/studies/{study.nct_id}").text
    assert [
        r["nct_id"]
        for r in client.get("/api/v1/studies", params={"condition": "headache"}).json()["results"]
    ] == [study.nct_id]

    # The registry changes the study: the edited fields stay, the others follow the registry.
    record["protocolSection"]["identificationModule"]["briefTitle"] = "Registry title v2"
    record["protocolSection"]["descriptionModule"]["briefSummary"] = "Registry summary v2"
    assert load(session, record).updated == 1
    session.expire_all()
    assert study.brief_title == "A clearer title for patients"
    assert study.conditions == ["Migraine", "Headache"]
    page = client.get(f"/admin/studies/{study.id}").text
    assert "will <strong>not</strong> overwrite" in page

    assert (
        post(
            client, f"/admin/studies/{study.id}/revert", {}, page=f"/admin/studies/{study.id}"
        ).status_code
        == 303
    )
    load(session, record)
    session.expire_all()
    assert study.brief_title == "Registry title v2"
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["login", "study.edit", "study.revert"]


def test_delete_a_study(client: TestClient, session: Session, admin: AdminUser) -> None:
    record = f.study()
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    log_in(client)
    assert (
        post(
            client, f"/admin/studies/{study.id}/delete", {}, page=f"/admin/studies/{study.id}"
        ).status_code
        == 303
    )
    assert client.get(f"/studies/{nct(record)}").status_code == 404
    assert "study.delete" in client.get("/admin/audit").text


def test_sites_added_and_edited_here_survive_imports(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    record = f.study(sites=[f.site(facility="Registry Clinic", contacts=[])])
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    log_in(client)
    new_site = {
        "facility": "Harbour Research Unit",
        "city": "Evanston",
        "state": "Illinois",
        "zip": "",
        "country": "United States",
        "lat": "42.05",
        "lon": "-87.69",
        "status": "",
        "contact_name": "Lee",
        "contact_email": "lee@example.org",
        "contact_phone": "",
    }
    bad = post(
        client,
        f"/admin/studies/{study.id}/sites/new",
        {**new_site, "lat": "200", "contact_email": "nope"},
    )
    assert bad.status_code == 422
    assert "between -90 and 90" in bad.text
    assert post(client, f"/admin/studies/{study.id}/sites/new", new_site).status_code == 303
    near = client.get(
        "/api/v1/studies", params={"lat": 42.05, "lon": -87.69, "radius_km": 5}
    ).json()
    assert near["results"][0]["nearest_site"]["facility"] == "Harbour Research Unit"

    registry_site = session.scalars(select(Site).where(Site.facility == "Registry Clinic")).one()
    edit = {
        **new_site,
        "facility": "Registry Clinic",
        "city": "Chicago",
        "lat": "41.88",
        "lon": "-87.63",
        "contact_email": "fixed@example.org",
    }
    assert post(client, f"/admin/sites/{registry_site.id}", edit).status_code == 303

    # The registry drops both sites.
    record["protocolSection"]["contactsLocationsModule"]["locations"] = []
    record["protocolSection"]["identificationModule"]["briefTitle"] = "Changed upstream"
    load(session, record)
    session.expire_all()
    kept = {s.facility: s.contacts[0]["email"] for s in study.sites}
    assert kept == {
        "Harbour Research Unit": "lee@example.org",
        "Registry Clinic": "fixed@example.org",
    }

    harbour = next(s for s in study.sites if s.facility == "Harbour Research Unit")
    assert (
        post(
            client, f"/admin/sites/{harbour.id}/delete", {}, page=f"/admin/sites/{harbour.id}"
        ).status_code
        == 303
    )
    session.expire_all()
    assert [s.facility for s in study.sites] == ["Registry Clinic"]
