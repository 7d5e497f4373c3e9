"""Administrator accounts: Argon2id passwords, signed session cookies, login throttling.

A session is a signed, timestamped cookie holding the account id and its session nonce;
logging out changes the nonce, which ends every session of the account at once. Failed
logins are counted per account and per client address over a sliding window.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from app import cookies, ratelimit
from app.addresses import identity, lookup_key
from app.admin.models import AdminUser, AuditEvent, LoginAttempt
from app.deps import DbSession
from app.params import whole_number

COOKIE = "tf_admin"
SESSION_SECONDS = 12 * 3600
MIN_PASSWORD_LENGTH = 12
THROTTLE_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
# Verifying against this keeps a login for an unknown account as slow as for a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class NotLoggedIn(Exception):
    """Raised by `require_admin`; the app turns it into a redirect to the login page."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def normalize_email(email: str) -> str:
    """An account's email as stored and compared (the site-wide rule, `addresses.identity`)."""
    return identity(email)


def create_admin(session: Session, *, email: str, password: str, now: dt.datetime) -> AdminUser:
    """A new account, or a new password for an existing one (which signs it out everywhere)."""
    address = normalize_email(email)
    if "@" not in address or any(ch.isspace() for ch in address):
        raise ValueError("that does not look like an email address")
    user = session.scalar(select(AdminUser).where(AdminUser.email == address))
    if user is None:
        user = AdminUser(email=address, created_at=now, is_active=True)
        session.add(user)
    user.password_hash = hash_password(password)
    user.session_nonce = secrets.token_urlsafe(24)
    return user


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    now: dt.datetime,
    target: str | None = None,
    **details: object,
) -> None:
    session.add(AuditEvent(at=now, actor=actor, action=action, target=target, details=details))


UNKNOWN_ACCOUNT = "(no such account)"
ACCOUNT_LIMIT = ratelimit.Limit("login-account", MAX_FAILURES_PER_ACCOUNT, THROTTLE_WINDOW)
ADDRESS_LIMIT = ratelimit.Limit("login-address", MAX_FAILURES_PER_ADDRESS, THROTTLE_WINDOW)


@dataclass(frozen=True)
class LoginCheck:
    """A login attempt, counted before the (slow) password check."""

    account: str  # the email as typed, normalised
    user: AdminUser | None  # the active account with that email, if any
    known: bool  # an account with that email exists (active or not)
    throttled: bool
    at: dt.datetime


def _held(session: Session, account: str, address: str, now: dt.datetime) -> list[ratelimit.Held]:
    return [
        ratelimit.hold(session, ACCOUNT_LIMIT, lookup_key(account), now=now),
        ratelimit.hold(session, ADDRESS_LIMIT, lookup_key(address), now=now),
    ]


def check_login(session: Session, *, email: str, address: str, now: dt.datetime) -> LoginCheck:
    """Count the attempt as a failure until it proves otherwise; in the caller's writing
    transaction, which must commit before `password_matches` spends a tenth of a second on
    Argon2. Counting first, under the limits' row locks, is what makes the throttle hold
    for attempts made at the same moment, from any number of processes: at most the limit
    ever reach the password check."""
    account = normalize_email(email)
    throttled = False
    limits = _held(session, account, address, now)
    for held in limits:
        try:
            ratelimit.spend(held, now=now)
        except ratelimit.RateLimited:
            throttled = True
    if throttled:  # a refused attempt is not checked, so it does not count either
        for held in limits:
            ratelimit.refund(held, at=now)
    user = session.scalar(select(AdminUser).where(AdminUser.email == account))
    active = user if user is not None and user.is_active else None
    return LoginCheck(account, active, user is not None, throttled, now)


def password_matches(check: LoginCheck, password: str) -> bool:
    """Argon2 verification; an unknown account costs the same (the answer never says)."""
    if check.throttled:
        return False
    try:
        _hasher.verify(check.user.password_hash if check.user else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return check.user is not None


def record_login(
    session: Session,
    check: LoginCheck,
    *,
    ok: bool,
    password: str,
    address: str,
    now: dt.datetime,
) -> AdminUser | None:
    """Store the attempt; give back its count when it succeeded; the user when it did.

    Runs in the caller's writing transaction; the account is read again there, so a
    password changed meanwhile is not overwritten by a rehash.
    """
    # Whatever was typed is kept only when it names an account: people type passwords and
    # other people's addresses into that field.
    account = check.account if check.user is not None else UNKNOWN_ACCOUNT
    session.add(LoginAttempt(email=account, address=address[:64], at=now, success=ok))
    if not ok or check.user is None:
        return None
    for held in _held(session, check.account, address, now):
        ratelimit.refund(held, at=check.at)
    user = session.get(AdminUser, check.user.id, populate_existing=True, with_for_update=True)
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = now
    return user


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="admin-session")


def start_session(request: Request, response: Response, user: AdminUser) -> None:
    cookies.set_cookie(
        request,
        response,
        COOKIE,
        _serializer(request).dumps([user.id, user.session_nonce]),
        max_age=SESSION_SECONDS,
        samesite="strict",
        path="/admin",
    )


def end_session(request: Request, response: Response) -> None:
    cookies.delete_cookie(request, response, COOKIE, path="/admin")


def has_signed_session(request: Request) -> bool:
    """A session cookie we signed and that has not expired (no database look-up)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return False
    try:
        _serializer(request).loads(token, max_age=SESSION_SECONDS)
    except BadSignature:
        return False
    return True


MAX_POST_BYTES = 210 * 1024 * 1024  # the import upload cap plus room for the form


class AdminGate:
    """ASGI middleware: admin writes without a validly signed session, or with an
    over-large body, are refused before the body is read, so an anonymous 300 MB upload
    is never stored first. (Each route's `require_admin` still checks the account.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "POST" and path.startswith("/admin/"):
            request = Request(scope)
            length = whole_number(request.headers.get("content-length"), maximum=10**18)
            refusal = None
            if length is not None and length > MAX_POST_BYTES:
                refusal = PlainTextResponse("request too large", status_code=413)
            elif path != "/admin/login" and not has_signed_session(request):
                refusal = PlainTextResponse("please log in", status_code=403)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def current_admin(request: Request, session: Session) -> AdminUser | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        user_id, nonce = _serializer(request).loads(token, max_age=SESSION_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None
    user = session.get(AdminUser, user_id) if isinstance(user_id, int) else None
    if user is None or not user.is_active or not isinstance(nonce, str):
        return None
    if not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user


def require_admin(request: Request, session: DbSession) -> AdminUser:
    """Dependency for every admin page and action: the logged-in administrator, or out."""
    user = current_admin(request, session)
    if user is None:
        if request.method in ("GET", "HEAD"):
            raise NotLoggedIn
        raise HTTPException(status_code=403, detail="Please log in.")
    return user


Admin = Annotated[AdminUser, Depends(require_admin)]


def forget_login_attempts(session: Session, *, before: dt.datetime) -> int:
    """Delete login attempts older than `before` (they hold typed addresses); how many."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.at < before))
    return int(getattr(result, "rowcount", 0) or 0)
