"""What every admin page shares: rendering with a CSRF token, checking it, safe redirects."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app import csrf

T = TypeVar("T")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A template with a fresh CSRF token in its context (every admin form posts one)."""
    token, nonce = csrf.issue_token(request)
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, {**context, "csrf_token": token}, status_code=status_code
    )
    csrf.set_cookie(request, response, nonce)
    return response


def check_csrf(request: Request, token: str) -> None:
    if not csrf.check(request, token):
        raise HTTPException(
            status_code=403, detail="The form expired; please go back and try again."
        )


def safe_next(target: str | None) -> str:
    """Only paths inside the admin area: never an open redirect to another site."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


# Ids and page numbers in URLs are bounded, so an absurd one is a 422, never a database
# overflow (PostgreSQL integers stop at 2**31 - 1).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
Page = Annotated[int, Query(ge=1, le=100_000)]


def printable(text: str, limit: int = 200) -> str:
    """A search or filter string without control characters (PostgreSQL refuses NUL)."""
    return "".join(ch for ch in text if ch.isprintable())[:limit]


def get_or_404(session: Session, model: type[T], object_id: int) -> T:
    """The row with this id, or a 404 page."""
    found = session.get(model, object_id)
    if found is None:
        raise HTTPException(status_code=404)
    return found
