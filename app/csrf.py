"""Cross-site request forgery protection for every form that changes something.

Two checks, as in datasette and fief: the browser's own `Sec-Fetch-Site`/`Origin`
headers must not say the request came from another site, and the form must carry a
token signed with the secret key that matches a random value in a cookie
(double submit). A failed check shows the form again with what was typed, never loses it.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "tf_csrf"
FIELD = "csrf_token"
MAX_AGE_SECONDS = 2 * 24 * 3600  # a form left open overnight still works


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="csrf")


def issue_token(request: Request) -> tuple[str, str]:
    """(token for the form, cookie value); the cookie value is reused while it lasts."""
    nonce = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    return _serializer(request).dumps(nonce), nonce


def set_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        COOKIE,
        nonce,
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.env == "production",
        path="/",
    )


def same_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.headers.get("host", "")
    return True


def check(request: Request, token: str | None) -> bool:
    """True when the request came from our own form in this browser."""
    nonce = request.cookies.get(COOKIE)
    if not (same_origin(request) and nonce and token):
        return False
    try:
        signed = _serializer(request).loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return False
    return isinstance(signed, str) and secrets.compare_digest(signed, nonce)
