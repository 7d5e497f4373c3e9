"""Database engine, sessions, transactions and the declarative base.

The request owns the transaction, and holds it only while it needs it: a request reads
in a deferred transaction, lets its connection go (`release`) before slow work, and
writes in one short `write_transaction`. Services and repositories never commit.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Dialect, Engine, MetaData, create_engine, event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from app.config import Settings, get_settings
from app.files import create_owner_only, owner_only, owner_only_folder

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Engine-specific search structures that the migrations create by hand: the FTS5 and
# R*Tree tables with their triggers and shadow tables (SQLite), the tsvector column and
# the GIN and GiST indexes (PostgreSQL). The models do not describe them.
SEARCH_INDEX_TABLES = ("study_fts", "site_geo")
SEARCH_INDEX_COLUMNS = frozenset({"search_vector"})
SEARCH_INDEX_INDEXES = frozenset(
    {"ix_studies_search_vector", "ix_sites_geo", "ix_search_terms_trgm"}
)


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic autogenerate filter: compare everything but the hand-made search structures."""
    if type_ == "table":
        return not (name or "").startswith(SEARCH_INDEX_TABLES)
    if type_ == "column":
        return name not in SEARCH_INDEX_COLUMNS
    if type_ == "index":
        return name not in SEARCH_INDEX_INDEXES
    return True


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in and out, on every database.

    SQLite has no time zones and hands back naive values; storing everything in UTC
    and marking it UTC on the way out keeps comparisons in Python and in SQL right.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use aware UTC datetimes")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite allows one writer per database file. Waiting writers inside one process queue on
# this lock instead of SQLite's busy handler, which polls with sleeps of up to 100 ms and
# so leaves the database idle between writers, and lets an unlucky one time out while
# others overtake it. Writers in other processes (a separate worker, the importer) still
# meet at SQLite's own lock, waiting up to BUSY_TIMEOUT_SECONDS.
BUSY_TIMEOUT_SECONDS = 10.0
_write_locks: dict[str, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def _write_lock(path: str) -> threading.Lock:
    key = os.path.realpath(path)
    with _write_locks_guard:
        return _write_locks.setdefault(key, threading.Lock())


class _SQLiteConnection(sqlite3.Connection):
    """A sqlite3 connection that gives the process's write lock back when its transaction ends.

    Released after COMMIT or ROLLBACK has really happened (SQLAlchemy's events fire
    before), so the next writer's BEGIN IMMEDIATE finds the database free.
    """

    held_write_lock: threading.Lock | None = None

    def _release_write_lock(self) -> None:
        lock, self.held_write_lock = self.held_write_lock, None
        if lock is not None:
            lock.release()

    def _then_release(self, end: Callable[[], None]) -> None:
        try:
            end()
        finally:
            self._release_write_lock()

    def commit(self) -> None:
        self._then_release(super().commit)

    def rollback(self) -> None:
        self._then_release(super().rollback)

    def close(self) -> None:
        self._then_release(super().close)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling does not begin before SAVEPOINT or
    # DDL; turn it off and let SQLAlchemy emit BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    # WAL lets the web process read while the importer or worker writes; the busy
    # timeout makes a writer wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten with zeros, so erased personal data (even encrypted)
    # does not linger in free pages of the file.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A transaction that reads and then writes must take the write lock at BEGIN: if it
    # upgraded later, a concurrent writer could make SQLite fail it at once ("database
    # is locked") instead of waiting. Readers stay deferred and never block.
    if not connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN")
        return
    raw = connection.connection.dbapi_connection
    path = connection.engine.url.database
    if isinstance(raw, _SQLiteConnection) and path and path != ":memory:":
        lock = _write_lock(path)
        if not lock.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise OperationalError(
                "BEGIN IMMEDIATE", None, TimeoutError("another writer held the database too long")
            )
        raw.held_write_lock = lock
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            raw._release_write_lock()
            raise
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE")


WRITE_OPTION = "trialfinder_writes"

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
"""What the database raises when it cannot answer: down, restarting, or too busy in time.
A transaction that fails so has changed nothing, so the request may simply be tried again."""


def writing(session: Session) -> None:
    """Declare, before its first statement, that this session's transaction will write.

    On SQLite that takes the write lock up front (see _sqlite_begin); elsewhere it only
    checks out the connection. Prefer `write_transaction`, which also ends it.
    """
    session.connection(execution_options={WRITE_OPTION: True})


def release(session: Session) -> None:
    """End the session's reads and give its connection back to the pool.

    Objects already loaded stay usable (sessions do not expire them on commit), so a view
    can read what it needs, let go of the connection, and then validate, geocode or render
    without holding one.
    """
    if session.in_transaction():
        session.commit()


@contextmanager
def committing(session: Session) -> Iterator[Session]:
    """Commit what the block did, or roll it back if the block raised."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One short writing transaction, committed at the end of the block.

    The request's reads end first (their snapshot must not be the one the write runs
    in), then the write lock is taken (SQLite: BEGIN IMMEDIATE, queued in-process), the
    block runs and commits. Keep only the writes and the reads they depend on inside:
    validation, geocoding and rendering belong before or after.
    """
    release(session)
    writing(session)
    with committing(session):
        yield session


def _sqlite_files_owner_only(path: Path) -> None:
    """The database holds personal data: the file, and the folder when this makes it, are
    the owner's only. SQLite gives its -wal and -shm files the database file's mode; ones
    left by an earlier version are tightened too."""
    if not path.parent.exists():
        owner_only_folder(path.parent)
    create_owner_only(path)
    for suffix in ("-wal", "-shm"):
        owner_only(Path(f"{path}{suffix}"))


def make_engine(
    url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout: float = 30.0
) -> Engine:
    """An engine with the settings each database needs, and a connection pool of this size."""
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        memory = not path or path == ":memory:"
        if not memory:
            _sqlite_files_owner_only(Path(path))
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "factory": _SQLiteConnection},
            **({} if memory else pool),
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # JIT planning adds tens of milliseconds to mid-size search queries and buys nothing.
    # lock_timeout: a writer waits for another's row or table lock as long as a SQLite
    # writer waits for the write lock, then fails (a 503 with Retry-After, nothing stored)
    # rather than keep a patient waiting past any proxy's patience.
    # pre_ping: after a database restart, stale pooled connections are replaced, not used.
    # connect_timeout: an unreachable server must fail a request in seconds, not minutes.
    lock_ms = int(BUSY_TIMEOUT_SECONDS * 1000)
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"options": f"-c jit=off -c lock_timeout={lock_ms}", "connect_timeout": 5},
        **pool,
    )


@lru_cache(maxsize=8)
def _engine(url: str, pool_size: int, max_overflow: int, pool_timeout: float) -> Engine:
    return make_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
    )


def engine_for(settings: Settings) -> Engine:
    """The process's engine for these settings, its pool sized by them (see Settings)."""
    return _engine(
        settings.database_url,
        settings.pool_size,
        settings.pool_overflow,
        settings.db_pool_timeout,
    )


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    settings = settings or get_settings()
    return sessionmaker(engine_for(settings), expire_on_commit=False)


def empty_write_ahead_log(sessions: sessionmaker[Session]) -> None:
    """SQLite: copy the write-ahead log into the database file and empty it.

    After a deletion, the log still holds the pages as they were before; this moves the
    zeroed pages into place and truncates the log. Best effort: a long reader elsewhere
    may keep part of it until the next checkpoint. Nothing to do on PostgreSQL.
    """
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name != "sqlite":
        return
    raw = bind.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
