"""The security headers every answer carries: pages, error pages, redirects, files.

`SecurityHeaders` adds them to everything the application sends; `apply` adds the same
to a response built outside it (the 500 page, which Starlette answers from beyond the
application's middleware). A plain ASGI middleware, not Starlette's BaseHTTPMiddleware:
that one costs a task group per read of a request body, a third of the CPU of a form
post under load.
"""

from __future__ import annotations

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}
# The OpenAPI pages load their viewer from a CDN, so they are served without this policy.
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")
HSTS = "max-age=31536000; includeSubDomains"
# Pages that show a patient's personal data: the admin area and the patient's own request.
PRIVATE_PATHS = (
    "/admin",
    "/requests/",
    "/alerts/confirm/",
    "/alerts/unsubscribe/",
    "/alerts/manage",
    "/shared/",
)


def _add(headers: MutableHeaders, path: str, *, production: bool) -> None:
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy" and path.startswith(DOCS_PATHS):
            continue
        headers.setdefault(name, value)
    if production:
        headers["Strict-Transport-Security"] = HSTS
    if path.startswith(PRIVATE_PATHS):
        # Patients' personal data: never cached, never indexed.
        headers["Cache-Control"] = "no-store"
        headers["X-Robots-Tag"] = "noindex, nofollow"


def private(response: Response) -> Response:
    """For a page outside PRIVATE_PATHS that shows personal data or carries a secret link:
    never cached, never indexed, and no Referer to the pages it links to."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def apply(request: Request, response: Response) -> Response:
    """Add the headers to `response` (kept where a route set its own) and return it."""
    production = request.app.state.settings.env == "production"
    _add(response.headers, request.url.path, production=production)
    return response


class SecurityHeaders:
    """ASGI middleware: the headers on every HTTP answer of `app`."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _add(MutableHeaders(scope=message), path, production=self.production)
            await send(message)

        await self.app(scope, receive, send_with_headers)
