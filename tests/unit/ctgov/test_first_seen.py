"""The importer records when each study and site became visible: first seen, and when it
entered its status. Patient alerts find what is new from these (both databases)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admin.studies import apply_study_edit
from app.studies.models import Site, Study
from tests import factories as f
from tests.alert_helpers import load_at

T = [dt.datetime(2026, 1, day, 9, 0, tzinfo=dt.UTC) for day in range(1, 8)]


def sites_by_facility(session: Session) -> dict[str | None, Site]:
    session.expire_all()
    return {site.facility: site for site in session.scalars(select(Site))}


def test_first_seen_and_status_since_follow_the_registry(session: Session) -> None:
    record = f.study(status="NOT_YET_RECRUITING", sites=[f.site(facility="North Clinic")])
    load_at(session, T[0], record)
    study = session.scalars(select(Study)).one()
    assert (study.first_seen_at, study.status_since) == (T[0], T[0])
    assert sites_by_facility(session)["North Clinic"].first_seen_at == T[0]

    load_at(session, T[1], record)  # unchanged: nothing moves
    session.expire_all()
    assert session.scalars(select(Study)).one().status_since == T[0]

    record["protocolSection"]["statusModule"]["overallStatus"] = "RECRUITING"
    record["protocolSection"]["descriptionModule"]["briefSummary"] = "Now open."
    load_at(session, T[2], record)
    session.expire_all()
    study = session.scalars(select(Study)).one()
    assert (study.first_seen_at, study.status_since) == (T[0], T[2])

    record["protocolSection"]["descriptionModule"]["briefSummary"] = "Edited, same status."
    load_at(session, T[3], record)
    session.expire_all()
    assert session.scalars(select(Study)).one().status_since == T[2]

    locations = record["protocolSection"]["contactsLocationsModule"]["locations"]
    locations.append(f.site(facility="South Clinic", status="NOT_YET_RECRUITING"))
    load_at(session, T[4], record)
    sites = sites_by_facility(session)
    assert sites["North Clinic"].first_seen_at == T[0]
    assert (sites["South Clinic"].first_seen_at, sites["South Clinic"].status_since) == (T[4], T[4])

    locations[1]["status"] = "RECRUITING"
    load_at(session, T[5], record)
    sites = sites_by_facility(session)
    assert (sites["South Clinic"].first_seen_at, sites["South Clinic"].status_since) == (T[4], T[5])
    assert sites["North Clinic"].status_since == T[0]


def test_an_administrator_changing_the_status_moves_status_since(session: Session) -> None:
    load_at(session, T[0], f.study(status="NOT_YET_RECRUITING"))
    study = session.scalars(select(Study)).one()
    apply_study_edit(study, {"brief_title": "A renamed study"})
    assert study.status_since == T[0]
    apply_study_edit(study, {"overall_status": "RECRUITING"})
    assert study.status_since > T[0]
