"""The security headers every answer carries: pages, error pages, redirects, files."""

from __future__ import annotations

from fastapi import Request, Response

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


def apply(request: Request, response: Response) -> Response:
    """Add the headers to `response` (kept where a route set its own) and return it."""
    for name, value in SECURITY_HEADERS.items():
        if name == "Content-Security-Policy" and request.url.path.startswith(DOCS_PATHS):
            continue
        response.headers.setdefault(name, value)
    if request.app.state.settings.env == "production":
        response.headers["Strict-Transport-Security"] = HSTS
    if request.url.path.startswith("/admin"):
        # Patients' personal data: never cached, never indexed.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
