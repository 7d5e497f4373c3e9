"""Pages of a study with 5,000 sites: size and server time, on SQLite and PostgreSQL.

Run with `python -m bench.site_pages [--sites N] [--requests R] [--write-docs]`. One
fictional study with N sites spread over four countries (a tenth of them closed) is
imported next to 200 ordinary generated studies, so "See also" has candidates. Each page
is requested R times through the whole application in-process (routing, database,
templates), after one warm-up request; the time is measured around the request, so it
is the server's work without the network. PostgreSQL runs when a server answers at
TRIALFINDER_TEST_POSTGRES_URL (default: the local one), in a database of its own that is
dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.cli import upgrade_database
from app.config import Settings
from app.ctgov.importer import RawRecord
from app.geo import places
from app.main import create_app
from bench.common import fresh_sqlite, load, machine, percentile, raw_records, today, write_section

POSTGRES_URL = os.environ.get(
    "TRIALFINDER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NCT_ID = "NCT99999001"
COUNTRIES = ("United States", "Canada", "France", "Japan")
PAGE_LIMIT_KB = 150
TIME_LIMIT_MS = 100


def big_study(sites: int) -> dict[str, Any]:
    """A fictional API v2 study with `sites` sites, a tenth of them closed."""
    locations = []
    for n in range(sites):
        locations.append(
            {
                "facility": f"Example Site {n:05d}",
                "city": f"Exampletown {n:05d}",
                "country": COUNTRIES[n % len(COUNTRIES)],
                "status": "COMPLETED" if n % 10 == 9 else "RECRUITING",
                "geoPoint": {"lat": 20 + (n % 400) * 0.1, "lon": -120 + (n // 400) * 4.0},
                "contacts": [{"name": f"Coordinator {n}", "email": f"site{n}@example.org"}],
            }
        )
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": NCT_ID,
                "briefTitle": "A fictional study at thousands of sites",
            },
            "statusModule": {"overallStatus": "RECRUITING"},
            "conditionsModule": {"conditions": ["Asthma"]},
            "eligibilityModule": {
                "eligibilityCriteria": "Inclusion Criteria:\n\n* Adults\n",
                "sex": "ALL",
                "minimumAge": "18 Years",
            },
            "contactsLocationsModule": {"locations": locations},
        }
    }


@contextmanager
def postgres_database() -> Iterator[str | None]:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"trialfinder_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        admin.dispose()
        yield None
        return
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


PAGES = {
    "study page": f"/studies/{NCT_ID}?location=Chicago%2C+IL",
    "study page, no place": f"/studies/{NCT_ID}",
    "contact form": f"/studies/{NCT_ID}/contact?location=Chicago%2C+IL",
    "all sites, page 40, Japan": (
        f"/studies/{NCT_ID}/sites?country=Japan&page=40&location=Chicago%2C+IL"
    ),
    "summary for the doctor": f"/studies/{NCT_ID}/summary?location=Chicago%2C+IL",
}


def measure(settings: Settings, requests: int) -> list[tuple[str, float, float, float]]:
    """(page, size in KB, median ms, p95 ms) for each page."""
    rows = []
    with TestClient(create_app(settings)) as client:
        for name, url in PAGES.items():
            first = client.get(url)
            assert first.status_code == 200, (name, first.status_code)
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200
            rows.append(
                (
                    name,
                    len(first.content) / 1024,
                    statistics.median(times) * 1000,
                    percentile(times, 0.95) * 1000,
                )
            )
    return rows


def build(settings: Settings, sites: int) -> None:
    upgrade_database(settings)
    records = [*raw_records(200, 3), RawRecord("bench", "big", big_study(sites))]
    report = load(settings, records)
    assert not report.rejected, report.rejected[:3]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    places.warm_up()
    results: dict[str, list[tuple[str, float, float, float]]] = {}
    sqlite = fresh_sqlite("site-pages")
    build(sqlite, args.sites)
    results["SQLite"] = measure(sqlite, args.requests)
    with postgres_database() as url:
        if url is None:
            print("PostgreSQL not reachable: measured SQLite only")
        else:
            settings = Settings(database_url=url, _env_file=None)
            build(settings, args.sites)
            results["PostgreSQL"] = measure(settings, args.requests)
            from app.db import engine_for

            engine_for(settings).dispose()

    lines = [
        f"| database | page | size | median | p95 | under {PAGE_LIMIT_KB} KB "
        f"and {TIME_LIMIT_MS} ms (p95) |",
        "|---|---|---|---|---|---|",
    ]
    for database, rows in results.items():
        for name, kb, median, p95 in rows:
            ok = "yes" if kb < PAGE_LIMIT_KB and p95 < TIME_LIMIT_MS else "**no**"
            lines.append(
                f"| {database} | {name} | {kb:.0f} KB | {median:.1f} ms | {p95:.1f} ms | {ok} |"
            )
    table = "\n".join(lines)
    print(table)
    if args.write_docs:
        write_section(
            "site-pages",
            f"""{table}

Measured {today()} on this project's 2-core machine ({machine()}),
`python -m bench.site_pages --sites {args.sites} --requests {args.requests}`.""",
        )


if __name__ == "__main__":
    main()
