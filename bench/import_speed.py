"""Import speed into SQLite: generated API v2 studies through the real importer.

Run with `make bench` or `python -m bench.import_speed [--studies N]`. The studies are
generated first (not timed); the import is timed as a whole, batches and commits
included, then a second, unchanged import of the same studies.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.ctgov.importer import read_records
from bench.common import (
    fresh_sqlite,
    load,
    machine,
    no_gc,
    raw_records,
    timed,
    today,
    write_section,
)

REAL_RECORDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ctgov" / "studies.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    records = list(raw_records(args.studies, args.seed))
    sites = sum(
        len(r.data["protocolSection"]["contactsLocationsModule"].get("locations", []))
        for r in records
    )
    no_gc()
    settings = fresh_sqlite("import")
    reports = []
    first = timed(lambda: reports.append(load(settings, records)))
    again = timed(lambda: reports.append(load(settings, records)))
    assert reports[0].inserted == args.studies, reports[0].summary()
    assert reports[1].unchanged == args.studies, reports[1].summary()

    rate, rate_again = args.studies / first, args.studies / again
    real_row = ""
    if REAL_RECORDS.exists():
        # Real listings are larger (about 30 sites each against 3 here), so they import
        # more slowly per study; measured for reference, not for the target.
        real = list(read_records([str(REAL_RECORDS)]))
        real_sites = sum(
            len(r.data["protocolSection"].get("contactsLocationsModule", {}).get("locations", []))
            for r in real
        )
        real_settings = fresh_sqlite("import-real")
        real_time = timed(lambda: reports.append(load(real_settings, real)))
        real_row = (
            f"| real ClinicalTrials.gov records, for reference | {len(real):,} | {real_sites:,} "
            f"| {real_time:.1f} | {len(real) / real_time:,.0f} |"
        )
        print(f"real records: {len(real):,} studies ({real_sites:,} sites) in {real_time:.1f} s")
    print(
        f"first import: {args.studies:,} studies ({sites:,} sites) in {first:.1f} s = {rate:,.0f}/s"
    )
    print(f"re-import, all unchanged: {again:.1f} s = {rate_again:,.0f}/s")
    write_section(
        "import",
        f"""
| run | studies | sites | seconds | studies/s |
|---|---|---|---|---|
| first import (all inserted) | {args.studies:,} | {sites:,} | {first:.1f} | **{rate:,.0f}** |
| re-import (all unchanged) | {args.studies:,} | {sites:,} | {again:.1f} | {rate_again:,.0f} |
{real_row}

Measured {today()} on this project's 2-core machine ({machine()}),
`python -m bench.import_speed --studies {args.studies} --seed {args.seed}`.
""",
    )


if __name__ == "__main__":
    main()
