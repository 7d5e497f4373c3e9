"""Request-scoped dependencies: the database session that the request owns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.db import committing


def _session(request: Request) -> Iterator[Session]:
    # The session takes no connection until the route first uses it, and a route that
    # writes does so in `write_transaction`, which commits there. What is left here is
    # the end of a read transaction: committed after the route returns and before the
    # response is sent (scope="function"), so even a late failure becomes an error page,
    # never a false success. FastAPI runs this exit outside the request thread pool, so
    # giving a connection back never waits for a free thread.
    with request.app.state.sessionmaker() as session, committing(session):
        yield session


DbSession = Annotated[Session, Depends(_session, scope="function")]
