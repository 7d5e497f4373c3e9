"""Request-scoped dependencies: the database session that the request owns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.db import writing


def _session(request: Request) -> Iterator[Session]:
    # Committed after the route returns and before the response is sent
    # (scope="function"), so a failed commit becomes an error page, never a false success.
    session: Session = request.app.state.sessionmaker()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        writing(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(_session, scope="function")]
