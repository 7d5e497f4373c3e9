"""Search speed with 100,000 generated studies in SQLite, through the JSON API in-process.

Run with `make bench` or `python -m bench.search_speed [--studies N] [--queries Q]`. The
database is built once under var/bench/ and reused while the study count and seed match.
Each query goes through the whole FastAPI application (routing, validation, geocoding,
search, JSON) with an in-process client; the engine-only time is reported beside it.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import session_factory
from app.demo.generator import CITIES, CONDITIONS
from app.main import create_app
from app.studies.models import Site, Study
from app.studies.search import SearchParams, resolve_origin, search_studies
from bench.common import (
    WORK,
    fresh_sqlite,
    load,
    machine,
    no_gc,
    raw_records,
    summary_ms,
    today,
    write_section,
)


def database(studies: int, seed: int) -> Settings:
    name = f"search-{studies}-{seed}"
    path = WORK / f"{name}.db"
    if path.exists():
        settings = Settings(database_url=f"sqlite:///{path}", _env_file=None)
        with session_factory(settings)() as session:
            if session.scalar(select(func.count()).select_from(Study)) == studies:
                return settings
    settings = fresh_sqlite(name)
    started = time.perf_counter()
    load(settings, raw_records(studies, seed))
    print(f"built {studies:,} studies in {time.perf_counter() - started:.0f} s")
    return settings


def queries(count: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """Query mixes: the target combination, and each part alone for comparison."""
    rng = random.Random(seed)

    def place() -> dict[str, Any]:
        city = rng.choice(CITIES)
        if rng.random() < 0.5:
            region = city.state if city.country == "United States" else city.country
            return {"location": f"{city.city}, {region}"}
        return {
            "lat": round(city.lat + rng.uniform(-0.2, 0.2), 4),
            "lon": round(city.lon + rng.uniform(-0.2, 0.2), 4),
        }

    def condition() -> str:
        return (
            rng.choice(CONDITIONS).name.split(" ")[0]
            if rng.random() < 0.3
            else rng.choice(CONDITIONS).name
        )

    def person() -> dict[str, Any]:
        return {"age": rng.randint(1, 90), "sex": rng.choice(["female", "male", "any"])}

    return {
        "condition + age + sex + location, 100 km (target)": [
            {"condition": condition(), **person(), **place(), "radius_km": 100}
            for _ in range(count)
        ],
        "condition only (ranked)": [{"condition": condition()} for _ in range(count // 2)],
        "location only, 100 km": [{**place(), "radius_km": 100} for _ in range(count // 2)],
        "age + sex only": [person() for _ in range(count // 2)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    settings = database(args.studies, args.seed)
    no_gc()
    app = create_app(settings)
    with session_factory(settings)() as session:
        sites = session.scalar(select(func.count()).select_from(Site)) or 0
        recruiting = session.scalar(
            select(func.count()).select_from(Study).where(Study.overall_status == "RECRUITING")
        )
    rows = []
    with TestClient(app) as client:
        client.get("/api/v1/studies", params={"location": "Paris, France"})  # build the place index
        for label, mix in queries(args.queries, args.seed).items():
            api, engine, totals = [], [], []
            for params in mix:
                started = time.perf_counter()
                response = client.get("/api/v1/studies", params=params)
                api.append(time.perf_counter() - started)
                assert response.status_code == 200, (params, response.text[:200])
                totals.append(response.json()["total"])
                search = SearchParams.model_validate(params)
                with session_factory(settings)() as session:
                    origin = resolve_origin(search)
                    started = time.perf_counter()
                    search_studies(session, search, origin=origin)
                    engine.append(time.perf_counter() - started)
            totals.sort()
            rows.append(
                (label, len(mix), summary_ms(api), summary_ms(engine), totals[len(totals) // 2])
            )
            print(f"{label}: API {summary_ms(api)}; engine {summary_ms(engine)}")
    table = "\n".join(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:,} |" for r in rows)
    write_section(
        "search",
        f"""
Method: {args.studies:,} generated studies ({recruiting:,} recruiting, {sites:,} sites) in
SQLite, built with `trialfinder`'s importer. Each query goes through the whole
application in-process (FastAPI routing, parameter validation, offline geocoding of a
`location` or `lat`/`lon`, the search, JSON encoding) with one client, warm caches, first
page of 20 with the total count; the same query is then timed on the search function alone
("engine"). Conditions are names or first words of names from the generator's vocabulary,
places are its cities (half as "City, State", half as jittered lat/lon), ages 1 to 90, sex
female/male/any. The target row is the one the target applies to.

| query mix | queries | JSON API in-process | engine only | median total |
|---|---|---|---|---|
{table}

Measured {today()} on this project's 2-core machine ({machine()}),
`python -m bench.search_speed --studies {args.studies} --queries {args.queries} --seed {args.seed}`.
""",
    )


if __name__ == "__main__":
    main()
