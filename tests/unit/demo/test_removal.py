"""`trialfinder demo-data --remove`: the demo studies go, real ones and requests' history stay.

On SQLite and PostgreSQL, with the search index checked from the outside (the search
itself, by condition and by place) and the typo vocabulary from the inside.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.contact.forms import ContactSubmission
from app.contact.models import ContactRequest
from app.contact.service import submit_contact_request
from app.demo.removal import remove_demo_studies
from app.geo.places import Place
from app.outbox.models import OutboxMessage
from app.studies.models import SearchTerm, Site, Study
from app.studies.rules import is_fictional
from app.studies.search import SearchParams, search_studies
from tests import factories as f
from tests.conftest import load

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
REAL_IDS = ("NCT05501886", "NCT06000001")
BOSTON = Place("Boston", 42.3601, -71.0589)


def boston_site(facility: str) -> dict[str, Any]:
    return f.site(
        facility=facility,
        city="Boston",
        state="Massachusetts",
        lat=42.36,
        lon=-71.06,
        contacts=[{"name": "Dana Example", "email": "dana@example.org"}],
    )


def demo_and_real(session: Session) -> tuple[list[str], list[str]]:
    demo = [
        f.study(conditions=("Zorblax Syndrome",), sites=[boston_site("Demo Clinic"), f.site()]),
        f.study(conditions=("Asthma",), sites=[boston_site("Demo Asthma Clinic")]),
        f.study(conditions=("Asthma",), sites=[]),
    ]
    real = [
        f.study(REAL_IDS[0], conditions=("Asthma",), sites=[boston_site("Real Clinic")]),
        f.study(REAL_IDS[1], conditions=("Gout",), sites=[f.site(), f.site(city="Evanston")]),
    ]
    load(session, *demo, *real)
    ids = [r["protocolSection"]["identificationModule"]["nctId"] for r in demo + real]
    return ids[: len(demo)], ids[len(demo) :]


def ask(session: Session, settings: Settings, nct_id: str, email: str) -> ContactRequest:
    study = session.scalars(select(Study).where(Study.nct_id == nct_id)).one()
    site = next(s for s in study.sites if s.city == "Boston")
    submission = ContactSubmission("Ana", "Example", email, "+12025550143", None, site.id, True)
    submitted = submit_contact_request(
        session, study=study, site=site, submission=submission, settings=settings, now=NOW
    )
    session.commit()
    return submitted.request


def nct_ids(session: Session, **params: Any) -> list[str]:
    origin = params.pop("origin", None)
    result = search_studies(session, SearchParams(**params), origin=origin)
    return sorted(hit.study.nct_id for hit in result.hits)


def test_the_demo_studies_go_and_nothing_else(session: Session, settings: Settings) -> None:
    demo, real = demo_and_real(session)
    assert all(is_fictional(nct_id) for nct_id in demo)
    assert not any(is_fictional(nct_id) for nct_id in real)
    about_demo = ask(session, settings, demo[0], "ana@example.com")
    about_real = ask(session, settings, real[0], "ana@example.com")
    real_sites = session.scalar(
        select(func.count()).select_from(Site).join(Study).where(Study.nct_id.in_(real))
    )
    emails = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert nct_ids(session, condition="zorblax") == [demo[0]]
    assert session.get(SearchTerm, "zorblax") is not None

    removed = remove_demo_studies(session)
    session.commit()
    session.expire_all()

    assert dataclasses.astuple(removed) == (3, 3, removed.terms, 2, 1)
    assert removed.terms >= 1  # "zorblax", at least
    assert str(removed) == (
        "removed 3 demo studies with 3 sites; 2 other studies kept; "
        "1 contact request about them kept, with their NCT ID and title"
    )
    assert sorted(session.scalars(select(Study.nct_id))) == sorted(real)
    assert session.scalar(select(func.count()).select_from(Site)) == real_sites

    # The contact requests' history: references cleared, their own copies kept.
    session.refresh(about_demo)
    assert (about_demo.study_id, about_demo.site_id) == (None, None)
    assert about_demo.nct_id == demo[0]
    assert about_demo.study_title == "A fictional study of a test treatment"
    assert about_demo.site_name.startswith("Demo Clinic")
    session.refresh(about_real)
    assert about_real.study_id is not None
    assert about_real.site_id is not None
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == emails

    # The search index follows: by condition (full text), by place (site index), by typo.
    assert nct_ids(session, condition="zorblax") == []
    assert nct_ids(session, condition="asthma") == [real[0]]
    assert nct_ids(session, origin=BOSTON, radius_km=10) == [real[0]]
    assert nct_ids(session) == sorted(real)
    assert session.get(SearchTerm, "zorblax") is None
    assert session.get(SearchTerm, "asthma") is not None
    assert nct_ids(session, condition="asthmo") == [real[0]]  # a typo still forgiven


def test_removing_when_there_is_no_demo_data_changes_nothing(session: Session) -> None:
    load(session, f.study(REAL_IDS[0], conditions=("Asthma",)))
    removed = remove_demo_studies(session)
    session.commit()
    assert (removed.studies, removed.sites, removed.studies_left) == (0, 0, 1)
    assert str(removed) == "removed 0 demo studies with 0 sites; 1 other study kept"
    assert session.scalar(select(Study.nct_id)) == REAL_IDS[0]
