"""Write transactions: one writer at a time on SQLite, queued in-process, never a stuck lock."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import release, write_transaction
from app.studies.models import SearchTerm


def add(sessions: sessionmaker[Session], term: str, hold: float = 0.0) -> None:
    with sessions() as session, write_transaction(session):
        session.add(SearchTerm(term=term))
        session.flush()
        time.sleep(hold)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_writers_in_one_process_take_turns(
    committed_sessionmaker: sessionmaker[Session],
) -> None:
    order: list[str] = []

    def first() -> None:
        add(committed_sessionmaker, "first", hold=0.5)
        order.append("first committed")

    def second() -> None:
        time.sleep(0.1)  # starts while the first holds the lock
        add(committed_sessionmaker, "second")
        order.append("second committed")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert order == ["first committed", "second committed"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failed_or_abandoned_write_gives_the_lock_back(
    committed_sessionmaker: sessionmaker[Session],
) -> None:
    def failing_write() -> None:
        with committed_sessionmaker() as session, write_transaction(session):
            session.add(SearchTerm(term="rolled back"))
            session.flush()
            raise RuntimeError("a bug in the middle of a write")

    with pytest.raises(RuntimeError):
        failing_write()
    # A session closed in the middle of a write, without commit or rollback.
    session = committed_sessionmaker()
    session.connection(execution_options={"trialfinder_writes": True})
    session.execute(text("SELECT 1"))
    session.close()
    started = time.monotonic()
    add(committed_sessionmaker, "after")  # would wait 10 s for a lock never given back
    assert time.monotonic() - started < 2
    with committed_sessionmaker() as session:
        assert session.scalars(select(SearchTerm.term)).all() == ["after"]


def test_release_keeps_what_was_read_and_lets_the_connection_go(
    committed_sessionmaker: sessionmaker[Session],
) -> None:
    add(committed_sessionmaker, "asthma")
    with committed_sessionmaker() as session:
        term = session.scalars(select(SearchTerm)).one()
        assert session.in_transaction()
        release(session)
        assert not session.in_transaction()
        assert term.term == "asthma"  # still loaded, no new query
        assert not session.in_transaction()
