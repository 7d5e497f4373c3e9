"""Daily jobs: work the workers do once a day, whichever worker gets to it first.

A job is due 24 hours after the start of its last run, as recorded in the database, so
restarts neither skip nor repeat it. A worker takes a due job under a row lock (SQLite:
the write lock) and marks it taken for a while, so among many workers on many hosts one
runs it; if that worker dies, another takes the job when the mark runs out. A job that
fails is tried again after RETRY_AFTER_FAILURE, not at every poll.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import String, Text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.db import Base, UTCDateTime, write_transaction

log = logging.getLogger("trialfinder.jobs")

INTERVAL = dt.timedelta(hours=24)
TAKEN_FOR = dt.timedelta(hours=1)
RETRY_AFTER_FAILURE = dt.timedelta(minutes=15)


class DailyJobRun(Base):
    """When each daily job last ran, and who holds it now."""

    __tablename__ = "daily_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    taken_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    taken_by: Mapped[str | None] = mapped_column(String(100))
    last_result: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class DailyJob:
    """A named job; `run` does its work in its own transactions and returns a summary
    for the log (counts, never personal data)."""

    name: str
    run: Callable[[sessionmaker[Session], dt.datetime], str]


def _is_due(row: DailyJobRun, now: dt.datetime) -> bool:
    if row.taken_until is not None and row.taken_until > now:
        return False
    return row.last_run_at is None or row.last_run_at + INTERVAL <= now


def take(session: Session, name: str, *, worker: str, now: dt.datetime) -> bool:
    """In the caller's writing transaction: mark the job taken by `worker` if it is due."""
    row = session.get(DailyJobRun, name, with_for_update=True)
    if row is None:
        try:
            # Two workers seeing a new job at once meet at the primary key.
            with session.begin_nested():
                session.add(DailyJobRun(name=name, taken_until=now + TAKEN_FOR, taken_by=worker))
        except IntegrityError:
            return False
        return True
    if not _is_due(row, now):
        return False
    row.taken_until, row.taken_by = now + TAKEN_FOR, worker
    return True


def _finish(
    session: Session, name: str, *, worker: str, started: dt.datetime, result: str | None
) -> None:
    row = session.get(DailyJobRun, name, with_for_update=True)
    if row is None or row.taken_by != worker:
        return
    if result is None:  # failed: try again later, not at once
        row.taken_until = started + RETRY_AFTER_FAILURE
    else:
        row.last_run_at, row.taken_until, row.last_result = started, None, result
    row.taken_by = None


def run_due(
    sessions: sessionmaker[Session],
    jobs: Sequence[DailyJob],
    *,
    worker: str,
    now: Callable[[], dt.datetime],
) -> dict[str, str]:
    """Run every job that is due and that no other worker holds; their summaries by name."""
    done: dict[str, str] = {}
    for job in jobs:
        started = now()
        with sessions() as session, write_transaction(session):
            taken = take(session, job.name, worker=worker, now=started)
        if not taken:
            continue
        result: str | None = None
        try:
            result = job.run(sessions, started)
            log.info("daily job %s: %s", job.name, result)
            done[job.name] = result
        except Exception:
            log.exception("daily job %s failed; it is tried again later", job.name)
        finally:
            with sessions() as session, write_transaction(session):
                _finish(session, job.name, worker=worker, started=started, result=result)
    return done
