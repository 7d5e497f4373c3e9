"""Retention: personal data is kept only as long as needed, then purged.

`trialfinder purge` and the workers' daily "purge" job delete the contact requests older
than TRIALFINDER_RETENTION_DAYS with their emails and mail files, and add them to the
anonymous counts (day, study, site, routing outcome) that stay for statistics. Emails
not tied to a request go after the same time, spent rate-limit rows after a day.
Alerts live until their patient unsubscribes, except: an alert never confirmed goes once
its confirmation link has expired, a paused one (its mail bounced) after the retention
period, and requested manage links when they expire. Shared notes are wiped when their
link expires; the link's row (no notes, no address) goes 30 days later.
On SQLite the freed pages are overwritten (`secure_delete`) and the write-ahead log is
emptied, so erased bytes do not linger in the files.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.models import PAUSED, PENDING, Alert, AlertLink, AlertRun
from app.alerts.service import CONFIRM_FOR
from app.config import Settings
from app.contact.models import ContactCount, ContactRequest
from app.db import empty_write_ahead_log, write_transaction
from app.notes.service import purge_shares
from app.outbox.models import OutboxMessage
from app.privacy.erasure import Removed, remove_messages
from app.ratelimit import RateLimitRow

BATCH = 200
# A rate-limit row is only read for its window (an hour at most); a day is plenty.
SPENT_LIMITS_AFTER = dt.timedelta(days=1)


def _count(session: Session, request: ContactRequest) -> None:
    key = (request.created_at.date(), request.nct_id, request.site_name, request.routing)
    counted = session.get(ContactCount, key)
    if counted is None:
        session.add(
            ContactCount(day=key[0], nct_id=key[1], site_name=key[2], routing=key[3], requests=1)
        )
    else:
        counted.requests += 1
    session.flush()


def _purge_alerts(session: Session, *, cutoff: dt.datetime, now: dt.datetime) -> int:
    """Alerts nobody confirmed in time, alerts paused since before the cutoff; expired links
    and old run records (counts only). Returns how many alerts went."""
    stale = or_(
        and_(Alert.status == PENDING, Alert.confirm_sent_at < now - CONFIRM_FOR),
        and_(Alert.status == PAUSED, Alert.paused_at < cutoff),
    )
    alerts = list(session.scalars(select(Alert).where(stale).with_for_update()))
    for alert in alerts:
        session.delete(alert)
    session.execute(delete(AlertLink).where(AlertLink.expires_at < now))
    session.execute(delete(AlertRun).where(AlertRun.finished_at < cutoff))
    return len(alerts)


def purge(sessions: sessionmaker[Session], *, settings: Settings, now: dt.datetime) -> Removed:
    """Delete personal data older than the retention period, in short transactions."""
    cutoff = now - dt.timedelta(days=settings.retention_days)
    removed = Removed()
    while True:
        with sessions() as session, write_transaction(session):
            old = list(
                session.scalars(
                    select(ContactRequest)
                    .where(ContactRequest.created_at < cutoff)
                    .order_by(ContactRequest.id)
                    .limit(BATCH)
                    .with_for_update()  # a withdrawal at the same moment waits, or goes first
                )
            )
            for request in old:
                _count(session, request)
                # No note to the site: its own retention rules cover the copy it was sent.
                messages = list(
                    session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.contact_request_id == request.id)
                        .with_for_update()
                    )
                )
                remove_messages(session, messages, settings=settings, removed=removed)
                session.delete(request)
                removed.requests += 1
        if len(old) < BATCH:
            break
    with sessions() as session, write_transaction(session):
        loose = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.contact_request_id.is_(None), OutboxMessage.created_at < cutoff)
            .with_for_update()
        )
        remove_messages(session, list(loose), settings=settings, removed=removed)
        removed.alerts += _purge_alerts(session, cutoff=cutoff, now=now)
        wiped, _ = purge_shares(session, now=now)
        removed.shares += wiped
        spent = now - SPENT_LIMITS_AFTER
        session.execute(delete(RateLimitRow).where(RateLimitRow.updated_at < spent))
    empty_write_ahead_log(sessions)
    return removed
