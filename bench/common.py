"""Shared pieces of the benchmarks: building a database of generated studies, timing, reports."""

from __future__ import annotations

import datetime as dt
import gc
import platform
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from app.cli import upgrade_database
from app.config import Settings
from app.ctgov.importer import ImportReport, RawRecord, import_records
from app.db import session_factory
from app.demo.generator import generate_studies

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
REPORT = ROOT / "docs" / "performance.md"


def raw_records(count: int, seed: int) -> Iterator[RawRecord]:
    for index, study in enumerate(generate_studies(count, seed=seed)):
        yield RawRecord("generated", f"index {index}", study)


def fresh_sqlite(name: str) -> Settings:
    WORK.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (WORK / f"{name}.db{suffix}").unlink(missing_ok=True)
    settings = Settings(database_url=f"sqlite:///{WORK / name}.db", _env_file=None)
    upgrade_database(settings)
    return settings


def load(settings: Settings, records: list[RawRecord] | Iterator[RawRecord]) -> ImportReport:
    """Import with a commit per batch, as `trialfinder import-ctgov` does."""
    with session_factory(settings)() as session:
        report = import_records(
            session, records, now=dt.datetime.now(dt.UTC), after_batch=lambda _: session.commit()
        )
        session.commit()
    return report


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server under test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary_ms(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples) * 1000:.1f} ms, "
        f"p95 {percentile(samples, 0.95) * 1000:.1f} ms, max {max(samples) * 1000:.1f} ms"
    )


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def write_section(name: str, markdown: str) -> None:
    """Replace the text between `<!-- bench:name -->` markers in docs/performance.md."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = REPORT.read_text()
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    REPORT.write_text(f"{before}{start}\n{markdown.strip()}\n{end}{after}")


def no_gc() -> None:
    # The generated studies are millions of small objects; the collector's passes over
    # them would be measured as import time.
    gc.collect()
    gc.freeze()
