"""What every admin page shares: rendering with a CSRF token, checking it, safe redirects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import HTTPException, Request, Response

from app import csrf


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
