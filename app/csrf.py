"""Cross-site request forgery protection, on by default for every route that changes something.

Two checks, as in datasette and fief: the browser's own `Sec-Fetch-Site`/`Origin`
headers must not say the request came from another site, and the form must carry a
token signed with the secret key that matches a random value in a cookie (double submit).

`protect` is a dependency of the whole application: every POST (every method but the
safe ones) is checked before its route runs and before any database work, unless its
route is named in `EXEMPT`. A route that fails the check gets a 403 page, except a
route marked with `shows_form_again`: it runs, sees `failed(request)`, and shows its form
again with the answers kept and a message, never losing what a patient typed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from types import MappingProxyType
from typing import Final, TypeVar
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app import cookies

COOKIE = "tf_csrf"
FIELD = "csrf_token"
MAX_AGE_SECONDS = 2 * 24 * 3600  # a form left open overnight still works
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FAILED_MESSAGE = "The form expired; please go back and try again."
FORM_AGAIN_MESSAGE = (
    "For your security, this form needs to be sent again. Your answers are kept: "
    "please check them and press the button once more."
)
"""What a `shows_form_again` route says above the form it shows again."""

EXEMPT: Final = MappingProxyType[str, str](
    {
        "alert_unsubscribe_post": (
            "RFC 8058 one-click unsubscribe: a mail client POSTs `List-Unsubscribe=One-Click` "
            "with no session and no token. Forged, it can only stop the alert whose secret "
            "link it already holds."
        ),
    }
)
"""Route names that take unsafe requests without a token, each with the reason. Keep it short:
a route belongs here only when its callers cannot hold a token (a mail client's one-click
unsubscribe, RFC 8058) and what it does is harmless if forged."""

_FORM_AGAIN = "_csrf_shows_form_again"
_F = TypeVar("_F", bound=Callable[..., object])


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="csrf")


def issue_token(request: Request) -> tuple[str, str]:
    """(token for the form, cookie value); the cookie value is reused while it lasts."""
    nonce = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    return _serializer(request).dumps(nonce), nonce


def set_cookie(request: Request, response: Response, nonce: str) -> None:
    cookies.set_cookie(request, response, COOKIE, nonce, max_age=MAX_AGE_SECONDS)


def same_origin(request: Request) -> bool:
    """The browser does not say the request came from another site.

    `Origin` may name this server as the request reached it (`Host`), or as the public
    sees it (`TRIALFINDER_BASE_URL`): a proxy in front may send its own `Host` upstream.
    """
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        ours = {
            request.headers.get("host", ""),
            urlsplit(request.app.state.settings.base_url).netloc,
        }
        return urlsplit(origin).netloc in ours
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


def shows_form_again(endpoint: _F) -> _F:
    """Mark a route that handles a failed check itself by showing its form again.

    Such a route must test `failed(request)` before doing anything; a test posts to every
    route without a token and would catch one that does not.
    """
    setattr(endpoint, _FORM_AGAIN, True)
    return endpoint


def failed(request: Request) -> bool:
    """For a `shows_form_again` route: the request did not pass the check."""
    return bool(getattr(request.state, "csrf_failed", False))


async def _posted_token(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    # Starlette keeps the parsed form, so the route's own form fields reuse this read.
    token = (await request.form()).get(FIELD)
    return token if isinstance(token, str) else None


async def protect(request: Request) -> None:
    """The application-wide check (a dependency of every route; see the module docstring)."""
    if request.method in SAFE_METHODS:
        return
    route = request.scope.get("route")
    if getattr(route, "name", None) in EXEMPT:
        return
    ok = check(request, await _posted_token(request))
    request.state.csrf_failed = not ok
    if not ok and not getattr(getattr(route, "endpoint", None), _FORM_AGAIN, False):
        raise HTTPException(status_code=403, detail=FAILED_MESSAGE)
