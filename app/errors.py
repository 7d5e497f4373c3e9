"""Error answers: a calm page (or JSON under /api/) for every failure, never a traceback.

Each status has one title and one message here. A database that cannot be reached, or
that is too busy to answer in time, is a 503 with `Retry-After`: the request changed
nothing (its transaction did not commit), so trying again later is safe. Every error
answer carries the security headers of normal pages, including the 500 page, which
Starlette builds outside the middleware that adds them to everything else.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from app import headers
from app.db import DATABASE_UNAVAILABLE

log = logging.getLogger("trialfinder")

RETRY_AFTER_SECONDS: Final = 30

PAGES: Final = {
    400: ("We could not read that request", "Please go back and try again."),
    403: (
        "Please send the form again",
        "For your security, forms expire after a while or when opened from another site. "
        "Please go back, reload the page and send it again.",
    ),
    404: (
        "We could not find that page",
        "The address may be mistyped, or the page may have moved.",
    ),
    405: ("We could not handle that request", "Please start again from the search page."),
    413: ("That was too much to send", "Please send less at once."),
    422: (
        "We could not handle that request",
        "Some of the information in the address was not valid. "
        "Please start again from the search page.",
    ),
    429: (
        "Please wait a little",
        "We have received many requests from you in a short time. Please try again later.",
    ),
    500: (
        "Something went wrong on our side",
        "Sorry: the page could not be shown. If you were sending a form, it may not have been "
        "saved: please go back and send it again in a moment.",
    ),
    503: (
        "TrialFinder is busy or being maintained",
        "We cannot reach our list of studies just now. Nothing you sent was stored: please "
        "go back and try again in a minute.",
    ),
}
ADMIN_TITLES: Final = {403: "Not allowed", 413: "Too large", 422: "Please check what you sent"}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(
    request: Request,
    status_code: int,
    *,
    detail: str | None = None,
    extra_headers: dict[str, str] | None = None,
    nct_id: str | None = None,
) -> Response:
    """The error answer for `status_code`: JSON under /api/, else the site's error page."""
    title, message = PAGES.get(status_code, PAGES[500] if status_code >= 500 else PAGES[400])
    response: Response
    if _wants_json(request):
        response = JSONResponse({"detail": detail or title}, status_code=status_code)
    elif request.url.path.startswith("/admin/") and status_code not in (404, 503):
        # Administrators get the reason (an expired form, an invalid address) in their
        # own layout, not the patients' "start again from the search page".
        response = request.app.state.templates.TemplateResponse(
            request,
            "admin/error.html",
            {"title": ADMIN_TITLES.get(status_code, title), "detail": detail or message},
            status_code=status_code,
        )
    else:
        template = "errors/404.html" if status_code == 404 else "errors/error.html"
        context: dict[str, Any] = {
            "status_code": status_code,
            "title": title,
            "message": message,
            "nct_id": nct_id,
        }
        response = request.app.state.templates.TemplateResponse(
            request, template, context, status_code=status_code
        )
    response.headers.update(extra_headers or {})
    return headers.apply(request, response)


def database_unavailable(request: Request) -> Response:
    return error_page(request, 503, extra_headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def install(app: FastAPI) -> None:
    """Register the error answers on `app`."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail: str | None = exc.detail if isinstance(exc.detail, str) else None
        if detail == _default(exc.status_code):
            detail = None  # Starlette's "Not Found" says nothing our page does not
        extra = dict(exc.headers) if exc.headers else None
        nct_id = getattr(exc, "nct_id", None)  # a study that does not exist: say which
        return error_page(
            request, exc.status_code, detail=detail, extra_headers=extra, nct_id=nct_id
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            errors = [
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ]
            return headers.apply(request, JSONResponse({"detail": errors}, status_code=422))
        return error_page(request, 422)

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect) -> Response:
        # The browser went away mid-upload: nothing to answer, nothing went wrong here.
        return PlainTextResponse("request incomplete", status_code=400)

    async def unavailable(request: Request, exc: Exception) -> Response:
        # Logged without the request's details: the message names the database error only.
        log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
        return database_unavailable(request)

    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, unavailable)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette raises the exception again after this answer, and the server logs its
        # traceback; this line adds which page it was.
        log.error("unhandled %s on %s", type(exc).__name__, request.url.path)
        return error_page(request, 500)


def _default(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return ""
