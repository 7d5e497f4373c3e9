"""The outbox queue: add messages, claim due ones with a lease, and record each outcome.

Claiming is an UPDATE of due rows to `sending` with a lease, in its own short transaction.
On PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so workers on many hosts
never claim the same row at once; SQLite serialises writers, so one claim at a time is
all it can do. The SMTP conversation happens outside any transaction; a worker that dies
there leaves the row `sending` until its lease expires, when any worker may claim it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session

from app.addresses import address_key, scrub
from app.outbox.email.senders import DeliveryError, OutgoingEmail
from app.outbox.models import FAILED, QUEUED, RESOLVED, SENDING, SENT, OutboxMessage
from app.outbox.retry import RetryPolicy

LOST_LEASE = "lost-lease"
GONE = "gone"  # the message was deleted (erased, withdrawn) while it was being sent
BounceHook = Callable[[Session, OutboxMessage], None]
"""Told of a message the mail server refused for good (SMTP 5xx), e.g. to pause the alert
whose mail bounced."""


@dataclass(frozen=True)
class Letter:
    """An email as written, ready to queue; `message_id` is fixed from now on."""

    message_id: str
    kind: str  # its template's name, for administrators
    to: tuple[str, ...]
    reply_to: str | None
    subject: str
    text: str
    html: str | None
    headers: tuple[tuple[str, str], ...] = ()
    """Extra header fields, e.g. List-Unsubscribe (see OutgoingEmail.headers)."""


def enqueue(
    session: Session,
    letter: Letter,
    *,
    sender: str,
    now: dt.datetime,
    contact_request_id: int | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction; it is sent after commit.

    Its content is encrypted at rest (see the model); `recipient_key` finds it later.
    """
    message = OutboxMessage(
        message_id=letter.message_id,
        kind=letter.kind,
        contact_request_id=contact_request_id,
        sender=sender,
        recipients=list(letter.to),
        recipient_key=address_key(letter.to[0]),
        reply_to=letter.reply_to,
        subject=letter.subject,
        body_text=letter.text,
        body_html=letter.html,
        headers=dict(letter.headers) or None,
        status=QUEUED,
        attempts=0,
        next_attempt_at=now,
        history=[],
        created_at=now,
    )
    session.add(message)
    return message


@dataclass(frozen=True)
class Claimed:
    """A claimed message: what the worker needs to send it, detached from any session."""

    id: int
    attempts: int
    email: OutgoingEmail


def _due(now: dt.datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == QUEUED, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_expires_at <= now),
    )


def claim(
    session: Session, *, worker: str, now: dt.datetime, lease_seconds: float, limit: int = 20
) -> list[Claimed]:
    """Lease up to `limit` due messages to `worker`. The caller commits at once."""
    due = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    lease = now + dt.timedelta(seconds=lease_seconds)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _due(now))
        .values(
            status=SENDING,
            lease_expires_at=lease,
            leased_by=worker,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.leased_by == worker)
        .where(OutboxMessage.lease_expires_at == lease)
        .execution_options(populate_existing=True)
    ).all()
    return [
        Claimed(
            id=row.id,
            attempts=row.attempts,
            email=OutgoingEmail(
                message_id=row.message_id,
                sender=row.sender,
                to=tuple(row.recipients or ()),
                subject=row.subject or "",
                text=row.body_text or "",
                html=row.body_html,
                reply_to=row.reply_to,
                headers=tuple((row.headers or {}).items()),
            ),
        )
        for row in rows
    ]


def renew_lease(
    session: Session, *, claimed: Claimed, worker: str, now: dt.datetime, lease_seconds: float
) -> bool:
    """Extend this worker's lease on one message just before sending it.

    A batch is leased at once but sent one by one; renewing per message means a slow
    mail server cannot let the lease on the last messages run out while the first are
    being sent. False when the lease was lost: another worker has the message now.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == claimed.id,
            OutboxMessage.status == SENDING,
            OutboxMessage.leased_by == worker,
            OutboxMessage.attempts == claimed.attempts,
        )
        .values(lease_expires_at=now + dt.timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def _history_entry(
    now: dt.datetime, worker: str, outcome: str, error: str | None
) -> dict[str, Any]:
    """One attempt, as kept for good: a server's reply can quote the address, so it is scrubbed."""
    reply = scrub(error) if error else None
    return {"at": now.isoformat(), "worker": worker, "outcome": outcome, "error": reply}


def forget_content(message: OutboxMessage) -> None:
    """Remove what a message said and to whom; keep its Message-ID, state, times, attempts
    and the keyed hash of its recipient."""
    message.recipients = message.reply_to = message.subject = None
    message.body_text = message.body_html = message.headers = None


def record_outcome(
    session: Session,
    *,
    claimed: Claimed,
    worker: str,
    now: dt.datetime,
    error: DeliveryError | None,
    policy: RetryPolicy,
    rng: random.Random | None = None,
    on_bounce: BounceHook | None = None,
) -> str:
    """Store what happened to one attempt; returns the message's new status.

    Only the lease holder may record: a worker whose lease expired and whose row was
    claimed again leaves it to the newer claim. `on_bounce` runs in the same transaction
    when the mail server refused the message for good (SMTP 5xx), before its content goes.
    """
    row = session.get(OutboxMessage, claimed.id, with_for_update=True, populate_existing=True)
    if row is None:
        return GONE
    if row.status != SENDING or row.leased_by != worker:
        return LOST_LEASE
    if error is None:
        row.status, row.sent_at, row.last_error = SENT, now, None
        forget_content(row)  # delivered: the recipient has it, we need not keep it
        outcome = SENT
    elif error.transient and not policy.gives_up_after(row.attempts):
        row.status, row.last_error = QUEUED, scrub(str(error))
        row.next_attempt_at = policy.next_attempt(now, row.attempts, rng)
        outcome = "retry"
    else:
        # Kept, encrypted, until an administrator retries or resolves it, or purge or
        # erasure removes it.
        row.status, row.last_error = FAILED, scrub(str(error))
        outcome = FAILED
        if on_bounce is not None and error.permanent and (error.smtp_code or 0) >= 500:
            on_bounce(session, row)  # the mail server said no (5xx), not our own fault
    row.lease_expires_at, row.leased_by = None, None
    row.history = [
        *row.history,
        _history_entry(now, worker, outcome, str(error) if error else None),
    ]
    return row.status


def retry_failed(session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
    """An administrator's retry: the message is due again, with a fresh attempt budget."""
    message.status, message.next_attempt_at, message.attempts = QUEUED, now, 0
    message.history = [*message.history, _history_entry(now, "admin", "requeued", None)]


def resolve_failed(session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
    """An administrator closes a failed message without sending it: its content goes."""
    message.status = RESOLVED
    forget_content(message)
    message.history = [*message.history, _history_entry(now, "admin", "resolved", None)]
