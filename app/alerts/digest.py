"""The digest: what became visible to each confirmed alert since its last digest, queued as
one email per alert (`trialfinder send-alerts`, and the workers' daily "send-alerts" job).

It works from the studies towards the alerts. The importer records when each study was
first seen and entered its status, and when each site was first seen and entered its own
(app/ctgov/importer.py). A run covers the window since the last finished run:

1. the candidate studies are the recruiting (or not yet recruiting) ones with any of those
   times in the window: typically a few hundred, whatever the size of the registry;
2. for each distinct condition among the alerts, the site's own search (app/studies/
   search.py: `studies_matching`) says which candidates it finds, once;
3. each alert then checks only its condition's candidates against its age, sex and status
   (`admits`, the search's rule) and, with a place, against the sites within its radius.

A study is new to an alert when it became visible to that alert's search after the alert's
cursor (its confirmation, or the end of the last run): first listed, newly in one of the
alert's statuses, or, for an alert with a place, when its first site in those statuses
within the radius appeared or opened. Every study found is recorded as sent, so none is
ever sent twice, and an alert with nothing new gets no email.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from app.alerts.emails import AlertDigest, DigestStudy
from app.alerts.models import ACTIVE, Alert, AlertRun, AlertStudy
from app.alerts.searches import AlertSearch
from app.alerts.service import letter, url
from app.config import Settings
from app.contact.service import site_label
from app.db import write_transaction
from app.geo.distance import haversine_km
from app.outbox.queue import Letter, enqueue
from app.studies.models import Site, Study
from app.studies.rules import NOT_YET_RECRUITING, RECRUITING, effective_status
from app.studies.search import admits, studies_matching

log = logging.getLogger("trialfinder.alerts")
LISTED = 10  # studies named in one digest; the rest are behind the results link
WRITE_BATCH = 500  # alerts per writing transaction
ALERT_STATUSES = (RECRUITING, NOT_YET_RECRUITING)
STATUS_LABELS = {RECRUITING: "Recruiting", NOT_YET_RECRUITING: "Not yet recruiting"}


@dataclass(frozen=True)
class _Site:
    id: int
    label: str
    lat: float | None
    lon: float | None
    status: str  # effective
    visible_since: dt.datetime  # first seen, or entered its status, or its study did


@dataclass(frozen=True)
class _Study:
    id: int
    nct_id: str
    title: str
    status: str
    sex: str
    min_age_years: float | None
    max_age_years: float | None
    status_since: dt.datetime
    sites: tuple[_Site, ...]


@dataclass(frozen=True)
class Found:
    study: _Study
    site: _Site | None  # the nearest site within the radius (alerts with a place)
    distance_km: float | None
    sites: int  # the study's sites in the alert's statuses


@dataclass
class DigestReport:
    alerts: int = 0  # confirmed alerts looked at
    candidates: int = 0  # studies new in the window
    conditions: int = 0  # distinct conditions searched
    digests: int = 0  # emails queued (or, in a dry run, that would be)
    studies: int = 0  # studies found in all
    skipped: int = 0  # alerts left out: unsubscribed during the run, or sent by another
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            f"{self.alerts} confirmed alert(s), {self.candidates} new or newly open "
            f"stud(y/ies), {self.digests} digest(s) with {self.studies} stud(y/ies) in all"
        )


@dataclass(frozen=True)
class _Subscriber:
    id: int
    search: AlertSearch
    cursor: dt.datetime


def candidate_studies(session: Session, since: dt.datetime, until: dt.datetime) -> list[_Study]:
    """Studies open to alerts with anything that makes them visible in (since, until]."""

    def in_window(column: InstrumentedAttribute[dt.datetime]) -> ColumnElement[bool]:
        return and_(column > since, column <= until)

    changed_sites = select(Site.study_id).where(
        or_(in_window(Site.first_seen_at), in_window(Site.status_since))
    )
    studies = session.execute(
        select(
            Study.id,
            Study.nct_id,
            Study.brief_title,
            Study.overall_status,
            Study.sex,
            Study.min_age_years,
            Study.max_age_years,
            Study.status_since,
        ).where(
            Study.overall_status.in_(ALERT_STATUSES),
            Study.status_since <= until,
            or_(in_window(Study.status_since), Study.id.in_(changed_sites)),
        )
    ).all()
    if not studies:
        return []
    by_study: dict[int, list[_Site]] = defaultdict(list)
    ids = [row.id for row in studies]
    status_of = {row.id: row.overall_status for row in studies}
    since_of = {row.id: row.status_since for row in studies}
    for start in range(0, len(ids), 1000):
        for site in session.scalars(
            select(Site).where(Site.study_id.in_(ids[start : start + 1000])).order_by(Site.position)
        ):
            status = effective_status(site.status, status_of[site.study_id])
            if status not in ALERT_STATUSES or site.first_seen_at > until:
                continue
            by_study[site.study_id].append(
                _Site(
                    site.id,
                    site_label(site),
                    site.lat,
                    site.lon,
                    status,
                    max(site.first_seen_at, site.status_since, since_of[site.study_id]),
                )
            )
        session.expunge_all()
    return [
        _Study(
            row.id,
            row.nct_id,
            row.brief_title,
            row.overall_status,
            row.sex,
            row.min_age_years,
            row.max_age_years,
            row.status_since,
            tuple(by_study.get(row.id, ())),
        )
        for row in studies
    ]


def find_new(subscriber: _Subscriber, studies: Iterable[_Study], sent: set[int]) -> list[Found]:
    """What became visible to this alert's search after its cursor, not sent before."""
    search, cursor = subscriber.search, subscriber.cursor
    origin = search.origin
    found: list[Found] = []
    for study in studies:
        if study.id in sent or study.status not in search.statuses:
            continue
        if not admits(
            age=search.age,
            sex=search.sex,
            study_sex=study.sex,
            min_age_years=study.min_age_years,
            max_age_years=study.max_age_years,
        ):
            continue
        sites = [s for s in study.sites if s.status in search.statuses]
        if origin is None:
            if study.status_since > cursor:
                found.append(Found(study, None, None, len(sites)))
            continue
        nearest: tuple[float, _Site] | None = None
        opened: dt.datetime | None = None  # when the first site within the radius opened
        for site in sites:
            if site.lat is None or site.lon is None:
                continue
            km = haversine_km(origin.lat, origin.lon, site.lat, site.lon)
            if km > search.radius_km:
                continue
            if nearest is None or km < nearest[0]:
                nearest = (km, site)
            if opened is None or site.visible_since < opened:
                opened = site.visible_since
        if nearest is not None and opened is not None and opened > cursor:
            found.append(Found(study, nearest[1], round(nearest[0], 1), len(sites)))
    if origin is not None:
        found.sort(key=lambda f: (f.distance_km or 0.0, f.study.nct_id))
    else:
        found.sort(key=lambda f: (-f.study.status_since.timestamp(), f.study.nct_id))
    return found


def _last_until(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.max(AlertRun.until)).where(AlertRun.finished_at.is_not(None)))


def _subscribers(
    session: Session, since: dt.datetime | None, until: dt.datetime
) -> list[_Subscriber]:
    rows = session.execute(
        select(Alert.id, Alert.search, Alert.confirmed_at).where(
            Alert.status == ACTIVE, Alert.confirmed_at <= until
        )
    )
    subscribers = []
    for alert_id, search, confirmed_at in rows:
        cursor = confirmed_at if since is None else max(since, confirmed_at)
        subscribers.append(_Subscriber(alert_id, AlertSearch.from_dict(search), cursor))
    return subscribers


def work_out(session: Session, *, now: dt.datetime, report: DigestReport) -> dict[int, list[Found]]:
    """Every confirmed alert's new studies, by alert id (alerts with none left out)."""
    started = time.perf_counter()
    since = _last_until(session)
    report.since, report.until = since, now
    subscribers = _subscribers(session, since, now)
    report.alerts = len(subscribers)
    report.timings["load alerts"] = time.perf_counter() - started
    if not subscribers:
        return {}
    floor = min(s.cursor for s in subscribers)
    step = time.perf_counter()
    studies = candidate_studies(session, floor, now)
    report.candidates = len(studies)
    report.timings["candidate studies"] = time.perf_counter() - step
    if not studies:
        return {}
    step = time.perf_counter()
    by_id = {study.id: study for study in studies}
    by_condition: dict[str, list[_Subscriber]] = defaultdict(list)
    for subscriber in subscribers:
        by_condition[" ".join(subscriber.search.condition.lower().split())].append(subscriber)
    report.conditions = len(by_condition)
    matched: dict[str, list[_Study]] = {}
    for condition in by_condition:
        ids = studies_matching(session, condition, by_id.keys())
        matched[condition] = [by_id[i] for i in sorted(ids)]
    report.timings["condition searches"] = time.perf_counter() - step
    step = time.perf_counter()
    sent: dict[int, set[int]] = defaultdict(set)
    study_ids = list(by_id)
    for start in range(0, len(study_ids), 1000):
        pairs = session.execute(
            select(AlertStudy.alert_id, AlertStudy.study_id).where(
                AlertStudy.study_id.in_(study_ids[start : start + 1000])
            )
        )
        for alert_id, study_id in pairs:
            sent[alert_id].add(study_id)
    report.timings["already sent"] = time.perf_counter() - step
    step = time.perf_counter()
    digests: dict[int, list[Found]] = {}
    for condition, group in by_condition.items():
        candidates = matched[condition]
        if not candidates:
            continue
        for subscriber in group:
            found = find_new(subscriber, candidates, sent.get(subscriber.id, set()))
            if found:
                digests[subscriber.id] = found
    report.digests = len(digests)
    report.studies = sum(len(found) for found in digests.values())
    report.timings["matching"] = time.perf_counter() - step
    return digests


def _digest_letter(
    alert: Alert, found: Sequence[Found], *, settings: Settings, run_id: int
) -> Letter:
    search = AlertSearch.from_dict(alert.search)
    # The place goes to each study page, so that its sites show nearest first.
    place = f"?{urlencode(search.place_items())}" if search.origin else ""
    studies = [
        DigestStudy(
            nct_id=f.study.nct_id,
            title=f.study.title,
            url=url(settings, f"/studies/{f.study.nct_id}{place}"),
            status=STATUS_LABELS.get(f.study.status, f.study.status),
            site=f.site.label if f.site else None,
            distance_km=f.distance_km,
            sites=f.sites,
        )
        for f in found[:LISTED]
    ]
    context = AlertDigest(
        summary=search.summary(),
        studies=studies,
        more=max(0, len(found) - LISTED),
        results_url=url(settings, f"/studies?{search.query()}"),
        manage_url=url(settings, f"/alerts/manage/{alert.manage_token}"),
        unsubscribe_url=url(settings, f"/alerts/unsubscribe/{alert.unsubscribe_token}"),
        site_url=settings.base_url,
    )
    return letter(
        settings,
        context,
        alert.email,
        tag=f"{alert.public_id}.digest.{run_id}",
        unsubscribe_url=context.unsubscribe_url,
    )


def send_alerts(
    sessions: sessionmaker[Session],
    *,
    settings: Settings,
    now: dt.datetime,
    dry_run: bool = False,
) -> DigestReport:
    """Work out every digest, then queue them in batches of WRITE_BATCH alerts.

    A dry run works everything out and writes nothing.
    """
    report = DigestReport()
    with sessions() as session:
        digests = work_out(session, now=now, report=report)
    if dry_run:
        return report
    step = time.perf_counter()
    with sessions() as session, write_transaction(session):
        run = AlertRun(since=report.since, until=now, alerts=report.alerts, digests=0, studies=0)
        session.add(run)
        session.flush()
        run_id = run.id
    queued = studies = 0
    alert_ids = list(digests)
    for start in range(0, len(alert_ids), WRITE_BATCH):
        batch = alert_ids[start : start + WRITE_BATCH]
        try:
            with sessions() as session, write_transaction(session):
                alerts = session.scalars(
                    select(Alert)
                    .where(Alert.id.in_(batch), Alert.status == ACTIVE)
                    .with_for_update()
                ).all()
                report.skipped += len(batch) - len(alerts)
                for alert in alerts:
                    found = digests[alert.id]
                    mail = _digest_letter(alert, found, settings=settings, run_id=run_id)
                    enqueue(session, mail, sender=settings.mail_from, now=now)
                    session.add_all(
                        AlertStudy(alert_id=alert.id, study_id=f.study.id, sent_at=now)
                        for f in found
                    )
                    alert.last_digest_at = now
                    queued += 1
                    studies += len(found)
        except IntegrityError:
            # Another run recorded some of these studies first: it sent them.
            report.skipped += len(batch)
            log.warning("a batch of digests was already sent by another run; skipped")
    with sessions() as session, write_transaction(session):
        finished = session.get(AlertRun, run_id)
        if finished is not None:
            finished.digests, finished.studies, finished.finished_at = queued, studies, now
    report.digests, report.studies = queued, studies
    report.timings["queue digests"] = time.perf_counter() - step
    log.info("alerts: %s", report)
    return report
