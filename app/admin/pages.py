"""What every admin page shares: rendering with a CSRF token, safe redirects, ids, lookups.

The CSRF check itself is the application's (`app.csrf.protect`), made before any route runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Path, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import csrf
from app.admin.auth import audit
from app.admin.models import AdminUser
from app.params import MAX_ID

T = TypeVar("T")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record(
    session: Session, admin: AdminUser, action: str, target: str | None, **details: object
) -> None:
    """An administrator's action in the audit log, now."""
    audit(session, actor=admin.email, action=action, now=now(), target=target, **details)


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


def safe_next(target: str | None) -> str:
    """Only paths inside the admin area: never an open redirect to another site."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return "/admin"


PAGE_SIZE = 50


@dataclass(frozen=True)
class Paged:
    """One page of an admin list: its rows, where it is, and how many there are in all."""

    rows: Sequence[Any]
    page: int
    pages: int
    total: int


def paginate(session: Session, query: Any, *, page: int, order_by: Sequence[Any]) -> Paged:
    """Page `page` of `query` (rows as the query selects them: objects, or tuples)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    window = query.order_by(*order_by).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    result = session.execute(window)
    rows = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    return Paged(rows, page, pages, total)


# Ids and page numbers in URLs are bounded, so an absurd one is a 422, never a database
# overflow (PostgreSQL integers stop at 2**31 - 1).
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Page = Annotated[int, Query(ge=1, le=100_000)]


def printable(text: str, limit: int = 200) -> str:
    """A search or filter string without control characters (PostgreSQL refuses NUL)."""
    return "".join(ch for ch in text if ch.isprintable())[:limit]


def get_or_404(session: Session, model: type[T], object_id: int, *, for_update: bool = False) -> T:
    """The row with this id, or a 404 page.

    `for_update` (inside a write transaction): read it afresh and lock it, so two
    administrators saving the same row at once take turns on PostgreSQL.
    """
    found = session.get(model, object_id, with_for_update=for_update, populate_existing=for_update)
    if found is None:
        raise HTTPException(status_code=404)
    return found
