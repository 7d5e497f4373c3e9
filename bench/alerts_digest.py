"""Alert digests: confirmed alerts against newly imported studies, on SQLite and PostgreSQL.

Run with `python -m bench.alerts_digest [--alerts N] [--studies M] [--write-docs]` (or
`make bench-alerts`). The defaults are the issue's target: 100,000 confirmed alerts and
1,000 new studies.

For each database (a SQLite file under var/bench/, and a throwaway PostgreSQL database
`bench_alerts_*` on the server at TRIALFINDER_BENCH_POSTGRES_URL, default the local one):

1. a registry of `--registry` generated studies is imported at T0, through the importer;
2. N alerts are stored as a confirmed sign-up leaves them, confirmed between T0 + 1 day
   and T0 + 1.5 days: conditions drawn from the generator's vocabulary (as named, shorter,
   a lay name or keyword of it, or with a typo), half with a place from its cities and a
   radius of 25 to 250 km, some with an age or a sex, a tenth with "opening soon"; the
   address, search and links are encrypted as the application encrypts them;
3. M new generated studies (a seed whose NCT IDs cannot meet the registry's) are imported
   at T0 + 2 days; the import must report all M inserted;
4. the digest runs at T0 + 3 days, each run in a fresh process (as `trialfinder
   send-alerts` runs): a dry run, which only works out every digest, with its phases;
   a dry run again under tracemalloc (for the peak of Python allocations; not timed);
   then the full run, which also queues every email, and the next day's run, when
   nothing new was imported.

Peak memory is the process's maximum resident set (ru_maxrss) of the process that ran
only that step. Further points with fewer alerts and fewer new studies show how the
cost grows (SQLite by default; `--scaling all` on PostgreSQL too, `--scaling none`
skips them). The smaller points are copies of the same database with the alerts past
the first n deleted, or with only the first m of the same new studies imported.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import resource
import secrets
import sqlite3
import subprocess
import sys
import textwrap
import time
import tracemalloc
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import crypto
from app.addresses import address_key, lookup_key
from app.alerts.consent import CONSENT_VERSION
from app.alerts.digest import DigestReport, send_alerts
from app.alerts.models import ACTIVE, Alert, AlertStudy
from app.alerts.searches import AlertSearch
from app.alerts.service import new_token, token_key
from app.cli import upgrade_database
from app.config import Settings
from app.ctgov.importer import ImportReport, import_records
from app.db import engine_for, session_factory
from app.demo.generator import CITIES, CONDITIONS
from app.outbox.models import OutboxMessage
from app.studies.models import Site, Study
from app.studies.rules import DEFAULT_STATUSES, NOT_YET_RECRUITING, RECRUITING
from bench.common import ROOT, WORK, machine, raw_records, today, write_section

POSTGRES_URL = os.environ.get(
    "TRIALFINDER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REGISTRY_SEED = 41  # NCT941…: the registry before the alerts
NEW_SEED = 52  # NCT952…: the studies imported after them (another block of IDs)
ALERT_SEED = 63
RADII = (25, 50, 100, 250)
OPEN = (RECRUITING, NOT_YET_RECRUITING)  # the statuses alerts are sent
ALERT_BATCH = 5000
PHASES = ("load alerts", "candidate studies", "condition searches", "already sent", "matching")
ALERTS = cast(Table, Alert.__table__)
DAY = dt.timedelta(days=1)
RESULTS = WORK / "alerts-digest.json"  # the last run's figures (--from-results reads them)


# -- the alerts ---------------------------------------------------------------------------


def _weighted(rng: random.Random, items: Sequence[Any], weights: Sequence[float]) -> Any:
    return rng.choices(items, weights)[0]


def condition_text(rng: random.Random, name: str, keywords: Sequence[str]) -> str:
    """What a patient types: mostly the name, else a shorter form, a keyword, or a typo."""
    roll = rng.random()
    words = name.lower().split()
    if roll < 0.70 or (roll < 0.82 and len(words) < 3):
        return " ".join(words)
    if roll < 0.82:
        return " ".join(words[-2:])  # "non-small cell lung cancer" -> "lung cancer"
    if roll < 0.94 and keywords:
        return rng.choice(keywords).lower()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) >= 5:
        cut = rng.randrange(1, len(word) - 1)
        words[longest] = word[:cut] + word[cut + 1 :]  # one letter left out
    return " ".join(words)


def alert_searches(count: int, seed: int) -> Iterator[AlertSearch]:
    """`count` realistic alert searches; a shorter run is a prefix of a longer one."""
    rng = random.Random(seed)
    condition_weights = [c.weight for c in CONDITIONS]
    city_weights = [c.weight for c in CITIES]
    for _ in range(count):
        condition = _weighted(rng, CONDITIONS, condition_weights)
        text = condition_text(rng, condition.name, condition.keywords)
        place = lat = lon = None
        radius = 100.0
        if rng.random() < 0.5:
            city = _weighted(rng, CITIES, city_weights)
            if rng.random() < 0.3:  # the browser's position: somewhere around the city
                place = "your location"
                lat = round(city.lat + rng.uniform(-0.3, 0.3), 5)
                lon = round(city.lon + rng.uniform(-0.3, 0.3), 5)
            else:
                place = f"{city.city}, {city.state or city.country}"
                lat, lon = city.lat, city.lon
            radius = float(rng.choice(RADII))
        age = None
        if rng.random() < 0.4:
            age = rng.randint(2, 17) if condition.ages == "child" else rng.randint(18, 85)
        sex = None
        if condition.sex and rng.random() < 0.4:
            sex = condition.sex.lower()
        elif not condition.sex and rng.random() < 0.15:
            sex = rng.choice(("female", "male"))
        statuses = (RECRUITING, NOT_YET_RECRUITING) if rng.random() < 0.1 else DEFAULT_STATUSES
        yield AlertSearch(text, age, sex, place, lat, lon, radius, statuses)


def alert_rows(count: int, *, confirmed_from: dt.datetime) -> Iterator[dict[str, Any]]:
    """Rows as sign-up and confirmation leave them, confirmed over 12 hours; about one
    address in ten has more than one alert."""
    rng = random.Random(ALERT_SEED + 1)
    for number, search in enumerate(alert_searches(count, ALERT_SEED)):
        person = number if number == 0 or rng.random() < 0.9 else rng.randrange(number)
        email = f"patient{person:06d}@example.org"
        confirmed = confirmed_from + dt.timedelta(seconds=rng.uniform(0, 12 * 3600))
        signed_up = confirmed - dt.timedelta(minutes=rng.uniform(1, 120))
        unsubscribe, manage = new_token(), new_token()
        yield {
            "public_id": secrets.token_urlsafe(16),
            "email": email,
            "email_key": address_key(email),
            "search": search.as_dict(),
            "dedup_key": lookup_key(f"{email.casefold()}|{search.canonical()}"),
            "status": ACTIVE,
            "created_at": signed_up,
            "consent_at": signed_up,
            "consent_page": "alerts",
            "consent_version": CONSENT_VERSION,
            "confirm_key": token_key(new_token()),
            "confirm_sent_at": signed_up,
            "confirmed_at": confirmed,
            "unsubscribe_key": token_key(unsubscribe),
            "unsubscribe_token": unsubscribe,
            "manage_key": token_key(manage),
            "manage_token": manage,
            "paused_at": None,
            "last_digest_at": None,
        }


# -- the stages, each run in a process of its own --------------------------------------------


def settings_for(url: str) -> Settings:
    settings = Settings(database_url=url, _env_file=None)
    crypto.install(settings.vault())
    return settings


def import_at(session: Session, count: int, seed: int, when: dt.datetime) -> ImportReport:
    report = import_records(
        session, raw_records(count, seed), now=when, after_batch=lambda _: session.commit()
    )
    session.commit()
    assert not report.rejected, report.rejected[:3]
    return report


def stage_build(spec: dict[str, Any]) -> dict[str, Any]:
    """The registry at T0, then the alerts, confirmed from T0 + 1 day."""
    settings = Settings(database_url=spec["url"], _env_file=None)
    upgrade_database(settings)
    settings = settings_for(spec["url"])
    t0 = dt.datetime.fromisoformat(spec["t0"])
    sessions = session_factory(settings)
    started = time.perf_counter()
    with sessions() as session:
        report = import_at(session, spec["registry"], REGISTRY_SEED, t0)
        assert report.inserted == spec["registry"], report.summary()
    registry_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rows = alert_rows(spec["alerts"], confirmed_from=t0 + DAY)
    with sessions() as session:
        while batch := [row for _, row in zip(range(ALERT_BATCH), rows, strict=False)]:
            session.execute(insert(ALERTS), batch)
            session.commit()
    alerts_seconds = time.perf_counter() - started
    with sessions() as session:
        return {
            "studies": session.scalar(select(func.count()).select_from(Study)),
            "sites": session.scalar(select(func.count()).select_from(Site)),
            "alerts": session.scalar(select(func.count()).select_from(Alert)),
            "registry_seconds": registry_seconds,
            "alerts_seconds": alerts_seconds,
        }


def stage_prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """Keep the first n alerts; import the m new studies at T0 + 2 days."""
    settings = settings_for(spec["url"])
    t2 = dt.datetime.fromisoformat(spec["t0"]) + 2 * DAY
    with session_factory(settings)() as session:
        session.execute(delete(Alert).where(Alert.id > spec["alerts"]))
        session.commit()
        alerts = session.scalar(select(func.count()).select_from(Alert))
        assert alerts == spec["alerts"], (alerts, spec["alerts"])
        report = import_at(session, spec["studies"], NEW_SEED, t2)
        # Really new rows, not updates of registry studies with the same NCT IDs.
        assert report.inserted == spec["studies"], report.summary()
        open_new = session.scalar(
            select(func.count())
            .select_from(Study)
            .where(Study.first_seen_at == t2, Study.overall_status.in_(OPEN))
        )
    return {"inserted": report.inserted, "open": open_new}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _report(report: DigestReport) -> dict[str, Any]:
    return {
        "alerts": report.alerts,
        "candidates": report.candidates,
        "conditions": report.conditions,
        "digests": report.digests,
        "studies": report.studies,
        "skipped": report.skipped,
        "timings": report.timings,
    }


def stage_run(spec: dict[str, Any]) -> dict[str, Any]:
    """One digest run at T0 + 3 days: "dry", "traced" (a dry run under tracemalloc) or
    "full" (then the next day's run too)."""
    settings = settings_for(spec["url"])
    sessions = session_factory(settings)
    t3 = dt.datetime.fromisoformat(spec["t0"]) + 3 * DAY
    mode = spec["mode"]
    load = os.getloadavg()[0]
    rss_before = _rss_mb()
    if mode == "traced":
        tracemalloc.start()
    started = time.perf_counter()
    report = send_alerts(sessions, settings=settings, now=t3, dry_run=mode != "full")
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": seconds,
        "report": _report(report),
        "load": load,
        "rss_before": rss_before,
        "peak": _peak_mb(),
    }
    if mode == "traced":
        result["traced_peak"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    if mode == "full":
        with sessions() as session:
            result["queued"] = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "alert_digest")
            )
            result["recorded"] = session.scalar(select(func.count()).select_from(AlertStudy))
        assert result["queued"] == report.digests, (result["queued"], report.digests)
        assert result["recorded"] == report.studies, (result["recorded"], report.studies)
        started = time.perf_counter()
        next_day = send_alerts(sessions, settings=settings, now=t3 + DAY)
        result["next_day_seconds"] = time.perf_counter() - started
        result["next_day"] = _report(next_day)
    engine_for(settings).dispose()
    return result


STAGES = {"build": stage_build, "prepare": stage_prepare, "run": stage_run}


def run_stage(stage: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run one stage in a fresh Python process; its result is the last line it prints."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.alerts_digest", "--stage", stage, "--spec", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"stage {stage} failed ({done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- databases ------------------------------------------------------------------------------


class Database:
    """Where one case's databases live: a base copied for each point."""

    label = ""

    def url(self, name: str) -> str:
        raise NotImplementedError

    def copy(self, source: str, target: str) -> None:
        raise NotImplementedError

    def drop(self, name: str) -> None:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError


class SQLiteFiles(Database):
    label = "SQLite"

    def _path(self, name: str) -> Path:
        return WORK / f"alerts-{name}.db"

    def url(self, name: str) -> str:
        WORK.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self._path(name)}"

    def copy(self, source: str, target: str) -> None:
        self.drop(target)
        with (
            contextlib.closing(sqlite3.connect(self._path(source))) as src,
            contextlib.closing(sqlite3.connect(self._path(target))) as dst,
        ):
            src.backup(dst)

    def drop(self, name: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self._path(name)}{suffix}").unlink(missing_ok=True)

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version}"


class PostgresDatabases(Database):
    label = "PostgreSQL"

    def __init__(self) -> None:
        self.admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        self.prefix = f"bench_alerts_{uuid.uuid4().hex[:8]}"

    def _name(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def url(self, name: str) -> str:
        with self.admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": self._name(name)}
            )
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{self._name(name)}"'))
        url = make_url(POSTGRES_URL).set(database=self._name(name))
        return url.render_as_string(hide_password=False)

    def copy(self, source: str, target: str) -> None:
        self.drop(target)
        with self.admin.connect() as conn:
            conn.execute(
                sa.text(f'CREATE DATABASE "{self._name(target)}" TEMPLATE "{self._name(source)}"')
            )

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self._name(name)}" WITH (FORCE)'))

    def version(self) -> str:
        with self.admin.connect() as conn:
            return "PostgreSQL " + str(conn.scalar(sa.text("SHOW server_version"))).split()[0]


# -- the measurements ------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    database: str
    alerts: int
    studies: int
    open_studies: int
    dry: dict[str, Any]
    traced: dict[str, Any] | None
    full: dict[str, Any]

    @property
    def work_out(self) -> float:
        return float(self.dry["seconds"])

    def phase(self, name: str) -> float:
        return float(self.dry["report"]["timings"].get(name, 0.0))


def measure(
    db: Database, *, alerts: int, studies: int, t0: str, trace: bool
) -> tuple[int, dict[str, Any]]:
    """Prepare a copy of the base for this point and run the digest on it."""
    name = f"a{alerts}-s{studies}"
    db.copy("base", name)
    try:
        url = db.url(name)
        spec = {"url": url, "alerts": alerts, "studies": studies, "t0": t0}
        prepared = run_stage("prepare", spec)
        runs = {"dry": run_stage("run", {**spec, "mode": "dry"})}
        if trace:
            runs["traced"] = run_stage("run", {**spec, "mode": "traced"})
        runs["full"] = run_stage("run", {**spec, "mode": "full"})
        # The full run finds what the dry run found, and the next day finds nothing new.
        assert runs["full"]["report"]["studies"] == runs["dry"]["report"]["studies"]
        assert runs["full"]["next_day"]["digests"] == 0
        return int(prepared["open"]), runs
    finally:
        db.drop(name)


def points_for(alerts: int, studies: int, scaling: bool) -> list[tuple[int, int]]:
    points = [(alerts, studies)]
    if scaling:
        points += [(max(1, alerts * k // 100), studies) for k in (10, 30)]
        points += [(alerts, max(1, studies * k // 100)) for k in (10, 30)]
    return points


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}"


def describe(point: Point) -> str:
    d, f = point.dry["report"], point.full["report"]
    phases = ", ".join(f"{p} {fmt_s(point.phase(p))} s" for p in PHASES)
    return (
        f"{point.database}: {point.alerts:,} alerts x {point.studies:,} new studies: "
        f"work-out {fmt_s(point.work_out)} s ({phases}); {d['candidates']} candidates, "
        f"{d['conditions']:,} conditions; full run {fmt_s(point.full['seconds'])} s "
        f"(queue {fmt_s(f['timings'].get('queue digests', 0.0))} s), {f['digests']:,} digests "
        f"with {f['studies']:,} studies; peak RSS {point.dry['peak']:.0f} MB dry, "
        f"{point.full['peak']:.0f} MB full"
    )


def work_out_table(points: Sequence[Point]) -> str:
    lines = [
        "| database | alerts | new studies (open) | conditions | "
        + " | ".join(PHASES)
        + " | work-out | peak RSS (before) | Python peak | load |",
        "|---|---|---|---|" + "---|" * len(PHASES) + "---|---|---|---|",
    ]
    for p in points:
        traced = f"{p.traced['traced_peak']:.0f} MB" if p.traced else "-"
        phases = " | ".join(f"{fmt_s(p.phase(name))} s" for name in PHASES)
        lines.append(
            f"| {p.database} | {p.alerts:,} | {p.studies:,} ({p.open_studies:,}) "
            f"| {p.dry['report']['conditions']:,} | {phases} | **{fmt_s(p.work_out)} s** "
            f"| {p.dry['peak']:.0f} MB ({p.dry['rss_before']:.0f}) | {traced} "
            f"| {p.dry['load']:.1f} |"
        )
    return "\n".join(lines)


def full_run_table(points: Sequence[Point]) -> str:
    lines = [
        "| database | alerts | new studies | digests queued | studies found | work-out "
        "| queue digests | full run | peak RSS | next day, nothing new | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        f = p.full
        timings = f["report"]["timings"]
        work = sum(timings.get(name, 0.0) for name in PHASES)
        lines.append(
            f"| {p.database} | {p.alerts:,} | {p.studies:,} | {f['report']['digests']:,} "
            f"| {f['report']['studies']:,} | {fmt_s(work)} s "
            f"| {fmt_s(timings.get('queue digests', 0.0))} s | **{fmt_s(f['seconds'])} s** "
            f"| {f['peak']:.0f} MB | {fmt_s(f['next_day_seconds'])} s | {f['load']:.1f} |"
        )
    return "\n".join(lines)


def _series(points: Sequence[Point], top: Point, key: str) -> list[Point]:
    """The points of top's database that vary `key` ("alerts" or "studies") alone."""
    other = "studies" if key == "alerts" else "alerts"
    same = [
        p for p in points if p.database == top.database and getattr(p, other) == getattr(top, other)
    ]
    return sorted(same, key=lambda p: int(getattr(p, key)))


def _arrow(values: Sequence[str]) -> str:
    return " → ".join(values)


def growth(points: Sequence[Point]) -> str:
    """How the cost grows, in plain words, from the figures measured (nothing else)."""
    paragraphs = []
    for database in dict.fromkeys(p.database for p in points):
        top = max(
            (p for p in points if p.database == database), key=lambda p: (p.alerts, p.studies)
        )
        d = top.dry["report"]
        searches = top.phase("condition searches")
        per_alert = top.phase("load alerts") + top.phase("matching")
        queue = top.full["report"]["timings"].get("queue digests", 0.0)
        digests = max(1, top.full["report"]["digests"])
        text = [
            f"{database}, {top.alerts:,} alerts and {top.studies:,} new studies: the "
            f"condition searches were {searches / top.work_out:.0%} of the work-out: one "
            f"search of the new candidate studies ({d['candidates']:,} open ones here) per "
            f"distinct condition text among the alerts ({d['conditions']:,}), "
            f"{searches / max(1, d['conditions']) * 1000:.0f} ms each."
        ]
        by_studies = _series(points, top, "studies")
        if len(by_studies) > 1:
            each = [
                p.phase("condition searches")
                / max(1, p.dry["report"]["conditions"] * p.dry["report"]["candidates"])
                * 1000
                for p in by_studies
            ]
            text.append(
                "For "
                + _arrow([f"{p.studies:,}" for p in by_studies])
                + " new studies ("
                + _arrow([f"{p.dry['report']['candidates']:,}" for p in by_studies])
                + " candidates) they took "
                + _arrow([f"{p.phase('condition searches'):.1f} s" for p in by_studies])
                + f": {min(each):.2f} to {max(each):.2f} ms per condition and candidate "
                "study."
            )
        by_alerts = _series(points, top, "alerts")
        if len(by_alerts) > 1:
            first, last = by_alerts[0], by_alerts[-1]
            text.append(
                "The distinct condition texts numbered "
                + _arrow([f"{p.dry['report']['conditions']:,}" for p in by_alerts])
                + " for "
                + _arrow([f"{p.alerts:,}" for p in by_alerts])
                + f" alerts, and {last.alerts / first.alerts:.0f} times the alerts took "
                f"{last.work_out / first.work_out:.1f} times as long to work out."
            )
        text.append(
            f"Loading the alerts (reading and decrypting every search) took "
            f"{fmt_s(top.phase('load alerts'))} s, and the next day's run, with nothing new "
            f"imported, {fmt_s(top.full['next_day_seconds'])} s; checking each alert against "
            f"its condition's candidates took {fmt_s(top.phase('matching'))} s: together "
            f"{per_alert / top.alerts * 1e6:.0f} µs per alert. Queueing took "
            f"{queue / digests * 1000:.2f} ms per digest queued ({digests:,} digests)."
        )
        traced = [(p, p.traced["traced_peak"]) for p in by_alerts if p.traced]
        if len(traced) > 1:
            (first, low), (last, high) = traced[0], traced[-1]
            slope = (high - low) / (last.alerts - first.alerts) * 1024
            text.append(
                "Python's own peak was "
                + _arrow([f"{peak:.0f}" for _, peak in traced])
                + " MB and the process's resident peak "
                + _arrow([f"{p.dry['peak']:.0f}" for p, _ in traced])
                + f" MB for {_arrow([f'{p.alerts:,}' for p, _ in traced])} alerts (about "
                f"{slope:.1f} KB more per alert); for "
                + _arrow([f"{p.studies:,}" for p in by_studies])
                + " new studies the resident peak was "
                + _arrow([f"{p.dry['peak']:.0f}" for p in by_studies])
                + " MB."
            )
        paragraphs.append(" ".join(text))
    return "\n\n".join(
        textwrap.fill(text, 90, break_on_hyphens=False, break_long_words=False)
        for text in paragraphs
    )


def method(registry: int) -> str:
    text = f"""Method: for each database a registry of {registry:,} generated studies is
imported at T0, through the importer. Then the alerts are stored as a confirmed sign-up
leaves them (address, search and link tokens encrypted), confirmed between T0 + 1 day and
T0 + 1.5 days. Their conditions come from the generator's vocabulary, weighted as its
studies are: 70 % as named, the rest a shorter form ("lung cancer"), one of the
condition's keywords or lay names, or with a letter left out. Half have a place (one of
the generator's cities, or a point near one) and a radius of 25, 50, 100 or 250 km; 40 %
give an age, some a sex, a tenth include "opening soon". Then the new studies (another
seed: every one inserted, none updated) are imported at T0 + 2 days, and the digest runs
at T0 + 3 days. Each step runs in a fresh process, as `trialfinder send-alerts` does:
the dry run (`send_alerts(..., dry_run=True)`, which works out every digest and writes
nothing) with its phases from `DigestReport.timings`; the same dry run again under
tracemalloc for the peak of Python's own allocations (not timed); then the full run,
which also renders and queues every digest and records what it sent, and after it the
next day's run, when nothing new was imported. Peak RSS is the process's maximum
resident set (`ru_maxrss`), with the resident set before the run (interpreter,
application and connection) in brackets. "Open" new studies are those recruiting or
not yet recruiting, the only ones alerts are sent. The smaller points are copies of the
same database with only the first alerts kept, or only the first of the same new
studies imported. The load average (1 minute) before each run is given: the machine is
shared with test runs, which can slow any figure here."""
    return textwrap.fill(" ".join(text.split()), 90, break_on_hyphens=False)


def commit() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return "unknown"


def docs_section(points: Sequence[Point], run: dict[str, Any]) -> str:
    return f"""
{method(run["registry"])}

Working out every digest (the dry run):

{work_out_table(points)}

The full run, queueing the emails:

{full_run_table(points)}

How the cost grows, as measured:

{growth(points)}

Measured {run["date"]} on commit {run["commit"]} on this project's 2-core machine
({run["machine"]}, {run["versions"]}), `{run["command"]}`.
"""


def measure_all(args: argparse.Namespace) -> list[Point]:
    # Fresh keys for the benchmark's own data, passed to every stage's process.
    os.environ.setdefault("TRIALFINDER_DATA_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("TRIALFINDER_LOOKUP_KEY", Fernet.generate_key().decode())
    t0 = (dt.datetime.now(dt.UTC) - 3 * DAY).replace(second=0, microsecond=0).isoformat()
    points: list[Point] = []
    for name in args.database or ["sqlite", "postgresql"]:
        db: Database = SQLiteFiles() if name == "sqlite" else PostgresDatabases()
        args.versions.append(db.version())
        try:
            started = time.perf_counter()
            built = run_stage(
                "build",
                {"url": db.url("base"), "registry": args.registry, "alerts": args.alerts, "t0": t0},
            )
            print(
                f"{db.label}: built {built['studies']:,} studies ({built['sites']:,} sites) in "
                f"{built['registry_seconds']:.0f} s and {built['alerts']:,} alerts in "
                f"{built['alerts_seconds']:.0f} s",
                flush=True,
            )
            scaling = args.scaling in ("all", name)
            for alerts, studies in points_for(args.alerts, args.studies, scaling):
                open_studies, runs = measure(
                    db, alerts=alerts, studies=studies, t0=t0, trace=not args.no_trace
                )
                point = Point(
                    db.label,
                    alerts,
                    studies,
                    open_studies,
                    runs["dry"],
                    runs.get("traced"),
                    runs["full"],
                )
                points.append(point)
                print(describe(point), flush=True)
            print(f"{db.label}: {time.perf_counter() - started:.0f} s in all", flush=True)
        finally:
            db.drop("base")
    return points


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=100_000, help="confirmed alerts")
    parser.add_argument("--studies", type=int, default=1_000, help="newly imported studies")
    parser.add_argument("--registry", type=int, default=10_000, help="studies before the alerts")
    parser.add_argument(
        "--database",
        action="append",
        choices=["sqlite", "postgresql"],
        help="repeatable; default: both",
    )
    parser.add_argument(
        "--scaling",
        choices=["sqlite", "all", "none"],
        default="sqlite",
        help="where to measure the smaller points too (default: SQLite)",
    )
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/performance.md")
    parser.add_argument(
        "--from-results",
        type=Path,
        metavar="JSON",
        help=f"report a saved run (every run saves {RESULTS.relative_to(ROOT)}), measure nothing",
    )
    parser.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        print(json.dumps(STAGES[args.stage](json.loads(args.spec))))
        return 0

    if args.from_results:
        saved = json.loads(args.from_results.read_text())
        run, points = saved["run"], [Point(**p) for p in saved["points"]]
    else:
        given = list(argv if argv is not None else sys.argv[1:])
        args.versions = []
        measured_on = commit()  # the code measured: the checkout may move during the run
        points = measure_all(args)
        run = {
            "registry": args.registry,
            "versions": ", ".join(args.versions),
            "command": " ".join(["python -m bench.alerts_digest", *given]),
            "date": today(),
            "commit": measured_on,
            "machine": machine(),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(
            json.dumps({"run": run, "points": [asdict(p) for p in points]}, indent=1)
        )
    print()
    print(work_out_table(points))
    print()
    print(full_run_table(points))
    print()
    print(growth(points))
    if args.write_docs:
        write_section("alerts", docs_section(points, run))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
