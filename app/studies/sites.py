"""A study's sites as pages show them: the nearest few, or one page of all, chosen in SQL.

A study may list thousands of sites. No page loads them all: the study page and the
contact form take the nearest few, and the sites page shows the rest a page at a time,
filtered by country. Distances are the search's own haversine (`distance_km_sql`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, null, select
from sqlalchemy.orm import Session

from app.geo.places import Place
from app.params import row_id
from app.studies.models import Site, Study
from app.studies.rules import CONTACTABLE
from app.studies.search import distance_km_sql

SitesAndDistances = list[tuple[Site, float | None]]


def _filtered(study: Study, statement: Any, *, contactable: bool, country: str | None) -> Any:
    statement = statement.where(Site.study_id == study.id)
    if contactable:
        statement = statement.join(Study, Study.id == Site.study_id).where(
            Study.overall_status.in_(CONTACTABLE), Site.effective_status.in_(CONTACTABLE)
        )
    if country:
        statement = statement.where(Site.country == country)
    return statement


def nearest_sites(
    session: Session,
    study: Study,
    *,
    origin: Place | None,
    limit: int,
    offset: int = 0,
    contactable: bool = False,
    country: str | None = None,
) -> SitesAndDistances:
    """Sites nearest `origin` first (those without coordinates last), else in listed order.

    `contactable` keeps the sites that take contact requests; `country` one country's.
    """
    if origin is None:
        statement = select(Site, null().label("km"))
        order: list[Any] = [Site.position, Site.id]
    else:
        dialect = session.get_bind().dialect.name
        km = case(
            (Site.lat.is_(None) | Site.lon.is_(None), None),
            else_=distance_km_sql(dialect, Site.lat, Site.lon, origin),
        )
        statement = select(Site, km.label("km"))
        order = [case((Site.lat.is_(None) | Site.lon.is_(None), 1), else_=0), km, Site.position]
    statement = _filtered(study, statement, contactable=contactable, country=country)
    rows = session.execute(statement.order_by(*order).limit(limit).offset(offset)).all()
    return [(row[0], None if row[1] is None else float(row[1])) for row in rows]


def count_sites(
    session: Session, study: Study, *, contactable: bool = False, country: str | None = None
) -> int:
    statement = _filtered(
        study, select(func.count(Site.id)), contactable=contactable, country=country
    )
    return int(session.scalar(statement) or 0)


def site_countries(
    session: Session, study: Study, *, contactable: bool = False
) -> list[tuple[str, int]]:
    """(country, number of sites) for the country filter, most sites first."""
    count = func.count(Site.id)
    statement = _filtered(
        study,
        select(Site.country, count).where(Site.country.is_not(None)),
        contactable=contactable,
        country=None,
    )
    rows = session.execute(statement.group_by(Site.country).order_by(count.desc(), Site.country))
    return [(str(country), int(n)) for country, n in rows]


def wanted_site(session: Session, study: Study, text: str | None) -> Site | None:
    """The site a link or form names (`?site=123`), if it is the study's and takes contacts."""
    site_id = row_id(text)
    return None if site_id is None else find_site(session, study, site_id, contactable=True)


def find_site(
    session: Session, study: Study, site_id: int, *, contactable: bool = False
) -> Site | None:
    """The study's site with this id (and taking contacts, if asked), or None."""
    statement = _filtered(study, select(Site), contactable=contactable, country=None)
    found: Site | None = session.scalar(statement.where(Site.id == site_id))
    return found
