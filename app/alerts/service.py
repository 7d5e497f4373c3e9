"""Signing up, confirming, leaving and managing alerts. Nothing here commits: the web
request (or the command) owns the transaction.

Links are random tokens (256 bits). The database finds an alert by the token's SHA-256
and keeps the token itself only encrypted, to put the same link in the next email; no
link depends on TRIALFINDER_SECRET_KEY. Before an alert is confirmed, its confirmation
email is the only mail it may cause.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app import ratelimit
from app.addresses import address_key, lookup_key
from app.alerts.consent import CONSENT_VERSION
from app.alerts.emails import AlertConfirmation, AlertManageLink
from app.alerts.forms import AlertSignup
from app.alerts.models import ACTIVE, PAUSED, PENDING, Alert, AlertLink, AlertStudy
from app.alerts.searches import AlertSearch
from app.config import Settings
from app.outbox.email.rendering import EmailContext, render_email
from app.outbox.models import OutboxMessage
from app.outbox.queue import Letter, enqueue

log = logging.getLogger("trialfinder.alerts")
CONFIRM_FOR = dt.timedelta(days=7)
RESEND_AFTER = dt.timedelta(hours=24)
MANAGE_LINK_FOR = dt.timedelta(days=7)
SIGNUP_LIMIT = ratelimit.Limit("alert-signup", times=5, window=dt.timedelta(hours=1))
MANAGE_LIMIT = ratelimit.Limit("alert-manage", times=3, window=dt.timedelta(hours=1))
RATE_LIMIT_MESSAGE = (
    "We have received many sign-ups with this email address in the last hour. "
    "Please try again later."
)
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
"""What every alert link's token looks like; anything else is refused before any query."""


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mail_domain(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or "localhost"


def url(settings: Settings, path: str) -> str:
    return f"{settings.base_url.rstrip('/')}{path}"


def unsubscribe_headers(unsubscribe_url: str) -> tuple[tuple[str, str], ...]:
    """RFC 8058: a mail client's "Unsubscribe" button POSTs `List-Unsubscribe=One-Click`."""
    return (
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )


def letter(
    settings: Settings, context: EmailContext, to: str, *, tag: str, unsubscribe_url: str
) -> Letter:
    mail = render_email(context)
    return Letter(
        f"<alert-{tag}@{_mail_domain(settings)}>",
        context.template,
        (to,),
        None,
        mail.subject,
        mail.text,
        mail.html,
        headers=unsubscribe_headers(unsubscribe_url),
    )


class SignUpOutcome(Enum):
    CONFIRMATION_SENT = "sent"
    ALREADY_PENDING = "pending"  # a confirmation went out within 24 hours: none again
    ALREADY_ACTIVE = "active"  # the same alert exists: nothing sent


def _confirmation(settings: Settings, alert: Alert, token: str) -> Letter:
    context = AlertConfirmation(
        summary=AlertSearch.from_dict(alert.search).summary(),
        confirm_url=url(settings, f"/alerts/confirm/{token}"),
        expires_days=CONFIRM_FOR.days,
        unsubscribe_url=url(settings, f"/alerts/unsubscribe/{alert.unsubscribe_token}"),
        site_url=settings.base_url,
    )
    tag = f"{alert.public_id}.confirm.{secrets.token_hex(4)}"
    return letter(settings, context, alert.email, tag=tag, unsubscribe_url=context.unsubscribe_url)


def sign_up(
    session: Session, signup: AlertSignup, *, settings: Settings, now: dt.datetime
) -> SignUpOutcome:
    """Store a pending alert and queue its one confirmation email, in the caller's writing
    transaction. Raises ratelimit.RateLimited when the address has had its sign-ups."""
    email_key = address_key(signup.email)
    dedup = lookup_key(f"{signup.email.casefold()}|{signup.search.canonical()}")
    held = ratelimit.hold(session, SIGNUP_LIMIT, email_key, now=now)
    alert = session.scalar(select(Alert).where(Alert.dedup_key == dedup).limit(1))
    if alert is not None and alert.status == ACTIVE:
        return SignUpOutcome.ALREADY_ACTIVE
    if (
        alert is not None
        and alert.status == PENDING
        and alert.confirm_sent_at is not None
        and alert.confirm_sent_at > now - RESEND_AFTER
    ):
        return SignUpOutcome.ALREADY_PENDING
    ratelimit.spend(held, now=now)
    if alert is None:
        unsubscribe, manage = new_token(), new_token()
        alert = Alert(
            public_id=secrets.token_urlsafe(16),
            email=signup.email,
            email_key=email_key,
            search=signup.search.as_dict(),
            dedup_key=dedup,
            created_at=now,
            unsubscribe_key=token_key(unsubscribe),
            unsubscribe_token=unsubscribe,
            manage_key=token_key(manage),
            manage_token=manage,
        )
        session.add(alert)
    # A new sign-up, one left pending over a day, or one paused after a bounce: the patient
    # consents again, and confirms again.
    token = new_token()
    alert.status, alert.confirm_key, alert.confirm_sent_at = PENDING, token_key(token), now
    alert.confirmed_at, alert.paused_at = None, None
    alert.consent_at, alert.consent_page, alert.consent_version = now, signup.page, CONSENT_VERSION
    session.flush()
    enqueue(session, _confirmation(settings, alert, token), sender=settings.mail_from, now=now)
    log.info("alert %s signed up; confirmation queued", alert.id)
    return SignUpOutcome.CONFIRMATION_SENT


class LinkProblem(Exception):
    """A link that opens nothing: `gone` (expired or already used up: 410) or unknown (404)."""

    def __init__(self, *, gone: bool) -> None:
        super().__init__("expired" if gone else "unknown")
        self.gone = gone


def _by(
    session: Session,
    column: InstrumentedAttribute[str | None] | InstrumentedAttribute[str],
    token: str,
) -> Alert | None:
    if not TOKEN.fullmatch(token):
        return None
    return session.scalar(select(Alert).where(column == token_key(token)))


def alert_to_confirm(session: Session, token: str, *, now: dt.datetime) -> Alert:
    """The alert a confirmation link opens; LinkProblem when it opens none."""
    alert = _by(session, Alert.confirm_key, token)
    if alert is None:
        raise LinkProblem(gone=False)
    if alert.status == PENDING and (alert.confirm_sent_at or now) + CONFIRM_FOR < now:
        raise LinkProblem(gone=True)
    return alert


def confirm(session: Session, token: str, *, now: dt.datetime) -> Alert:
    """Confirm (the POST of the confirmation page). Confirming twice is harmless."""
    alert = alert_to_confirm(session, token, now=now)
    if alert.status == PENDING:
        alert.status, alert.confirmed_at = ACTIVE, now
        log.info("alert %s confirmed", alert.id)
    return alert


@dataclass(frozen=True)
class Unsubscribing:
    """What an unsubscribe link opens: one alert, or (a requested manage link) all of them."""

    alerts: list[Alert]


def to_unsubscribe(session: Session, token: str, *, now: dt.datetime) -> Unsubscribing:
    alert = _by(session, Alert.unsubscribe_key, token)
    if alert is not None:
        return Unsubscribing([alert])
    email_key = _requested_link(session, token, now=now)
    return Unsubscribing(_alerts_of(session, email_key))


def unsubscribe(session: Session, token: str, *, now: dt.datetime) -> int:
    """Delete what the link opens, with what it was sent; how many alerts went."""
    found = to_unsubscribe(session, token, now=now)
    for alert in found.alerts:
        session.delete(alert)
    session.flush()
    if found.alerts:
        log.info("%s alert(s) removed by their unsubscribe link", len(found.alerts))
    return len(found.alerts)


def _requested_link(session: Session, token: str, *, now: dt.datetime) -> str:
    """The address key a requested manage link opens; LinkProblem otherwise."""
    if not TOKEN.fullmatch(token):
        raise LinkProblem(gone=False)
    link = session.get(AlertLink, token_key(token))
    if link is None:
        raise LinkProblem(gone=False)
    if link.expires_at < now:
        raise LinkProblem(gone=True)
    return link.email_key


def _alerts_of(session: Session, email_key: str) -> list[Alert]:
    query = select(Alert).where(Alert.email_key == email_key).order_by(Alert.created_at, Alert.id)
    return list(session.scalars(query))


def manage_key_of(session: Session, token: str, *, now: dt.datetime) -> str:
    """The address key a manage link opens: an alert's own link, or a requested one."""
    alert = _by(session, Alert.manage_key, token)
    if alert is not None:
        return alert.email_key
    return _requested_link(session, token, now=now)


def alerts_to_manage(session: Session, token: str, *, now: dt.datetime) -> list[Alert]:
    """Every alert of the address the link belongs to (LinkProblem for a bad link)."""
    return _alerts_of(session, manage_key_of(session, token, now=now))


def delete_alerts(session: Session, token: str, which: str, *, now: dt.datetime) -> int:
    """Delete one alert (`which` = its public id) or all ("all") of the link's address."""
    alerts = alerts_to_manage(session, token, now=now)
    chosen = [a for a in alerts if which in ("all", a.public_id)]
    for alert in chosen:
        session.delete(alert)
    session.flush()
    return len(chosen)


def request_manage_link(
    session: Session, email: str, *, settings: Settings, now: dt.datetime
) -> bool:
    """Email a fresh manage link if the address has alerts. The caller says the same thing
    either way, so the page reveals nothing; True when a link was queued. Raises
    ratelimit.RateLimited past the address's limit."""
    email_key = address_key(email)
    held = ratelimit.hold(session, MANAGE_LIMIT, email_key, now=now)
    alerts = [a for a in _alerts_of(session, email_key) if a.status in (ACTIVE, PAUSED)]
    if not alerts:
        return False
    ratelimit.spend(held, now=now)
    token = new_token()
    session.add(
        AlertLink(key=token_key(token), email_key=email_key, expires_at=now + MANAGE_LINK_FOR)
    )
    context = AlertManageLink(
        manage_url=url(settings, f"/alerts/manage/{token}"),
        expires_days=MANAGE_LINK_FOR.days,
        unsubscribe_url=url(settings, f"/alerts/unsubscribe/{token}"),
        site_url=settings.base_url,
    )
    mail = letter(
        settings,
        context,
        alerts[0].email,
        tag=f"manage.{secrets.token_hex(8)}",
        unsubscribe_url=context.unsubscribe_url,
    )
    enqueue(session, mail, sender=settings.mail_from, now=now)
    return True


def pause_after_bounce(session: Session, message: OutboxMessage) -> None:
    """The worker's bounce hook: mail about alerts refused for good (SMTP 5xx) pauses every
    alert of that address, so no more mail goes to a mailbox that does not take it."""
    if not message.kind.startswith("alert_"):
        return
    alerts = session.scalars(
        select(Alert).where(
            Alert.email_key == message.recipient_key, Alert.status.in_((PENDING, ACTIVE))
        )
    ).all()
    for alert in alerts:
        alert.status, alert.paused_at = PAUSED, _now()
    if alerts:
        log.warning("%s alert(s) paused: their mail was refused for good", len(alerts))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class AlertCounts:
    """What administrators see: counts, never addresses or searches."""

    alerts: int
    confirmed: int
    paused: int
    sent_this_week: int  # digests


def counts(session: Session, *, now: dt.datetime) -> AlertCounts:
    by_status = dict(
        session.execute(select(Alert.status, func.count()).group_by(Alert.status)).all()
    )
    week_ago = now - dt.timedelta(days=7)
    # A digest records all its studies at one time: one (alert, time) pair per digest.
    digests = (
        select(AlertStudy.alert_id, AlertStudy.sent_at)
        .where(AlertStudy.sent_at >= week_ago)
        .distinct()
        .subquery()
    )
    sent = session.scalar(select(func.count()).select_from(digests))
    return AlertCounts(
        alerts=sum(by_status.values()),
        confirmed=by_status.get(ACTIVE, 0),
        paused=by_status.get(PAUSED, 0),
        sent_this_week=int(sent or 0),
    )
