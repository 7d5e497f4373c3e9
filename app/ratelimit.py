"""Limits per key (an email address's lookup key) that hold across processes and hosts.

A limit is "at most N in any window of this length". Each (limit, key) has one row
holding the times of its recent uses, at most N of them. Counting happens under that
row's lock: on PostgreSQL `SELECT … FOR UPDATE` (created first if missing, with
`ON CONFLICT DO NOTHING`), on SQLite the database's write lock that every writing
transaction takes at BEGIN. So two processes can never both see room for one more: the
second waits for the first to commit or roll back, then counts again. A count of earlier
rows followed by an insert could not promise that.

Callers take the row first (`hold`), may then decide that the request does not count
(a repeat of an earlier one), and only then `spend`. Everything happens in the caller's
writing transaction: a request that fails later rolls its use back.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.requests import Request

from app.db import Base, UTCDateTime


class RateLimitRow(Base):
    """Recent uses of one limit by one key (a hash, never the address itself)."""

    __tablename__ = "rate_limits"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Epoch seconds of the uses still inside the window, oldest first; at most the limit.
    uses: Mapped[list[float]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True)
class Limit:
    scope: str
    times: int
    window: dt.timedelta


class RateLimited(Exception):
    """The limit is reached; `retry_after` is whole seconds until one use expires."""

    def __init__(self, limit: Limit, retry_after: int) -> None:
        super().__init__(f"{limit.scope}: more than {limit.times} in {limit.window}")
        self.limit = limit
        self.retry_after = retry_after


@dataclass
class Held:
    """A locked row: what `spend` needs. Only valid inside the transaction that took it."""

    limit: Limit
    row: RateLimitRow


def client_address(request: Request) -> str:
    """The client's address as the server sees it: behind a proxy named in
    FORWARDED_ALLOW_IPS, the one it forwarded. Limits key it by a keyed hash only."""
    return request.client.host if request.client else "unknown"


def hold(session: Session, limit: Limit, key: str, *, now: dt.datetime) -> Held:
    """Lock the row of `key` under `limit` for the rest of the caller's transaction."""
    values: dict[str, Any] = {"scope": limit.scope, "key": key, "uses": [], "updated_at": now}
    factory = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(factory(RateLimitRow).values(values).on_conflict_do_nothing())
    row = session.scalars(
        select(RateLimitRow)
        .where(RateLimitRow.scope == limit.scope, RateLimitRow.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return Held(limit, row)


def peek(session: Session, limit: Limit, key: str, *, now: dt.datetime) -> int | None:
    """Seconds to wait if `key` has used up `limit` now, else None; locks and counts nothing.

    For a caller about to do costly work (a passcode derivation) before its writing
    transaction: a client already over the limit is turned away before that work. `spend`
    still decides, under the lock.
    """
    row = session.get(RateLimitRow, (limit.scope, key))
    if row is None:
        return None
    start = (now - limit.window).timestamp()
    recent = [t for t in row.uses if t > start]
    if len(recent) < limit.times:
        return None
    return max(1, math.ceil(min(recent[-limit.times] - start, limit.window.total_seconds())))


def refund(held: Held, *, at: dt.datetime) -> None:
    """Take back the use counted at `at` (it turned out not to count: a login succeeded)."""
    stamp = at.timestamp()
    held.row.uses = [t for t in held.row.uses if t != stamp]


def spend(held: Held, *, now: dt.datetime) -> None:
    """Count one use now, or raise RateLimited (and count nothing) when the limit is reached."""
    limit, row = held.limit, held.row
    start = (now - limit.window).timestamp()
    recent = [t for t in row.uses if t > start]
    if len(recent) >= limit.times:
        # Clocks of two hosts may differ a little: never ask for more than the window.
        wait = min(recent[-limit.times] - start, limit.window.total_seconds())
        raise RateLimited(limit, retry_after=max(1, math.ceil(wait)))
    row.uses = [*recent, now.timestamp()]
    row.updated_at = now
