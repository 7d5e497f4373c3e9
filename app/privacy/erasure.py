"""Erasure: remove everything about one person, or one request, and say what was removed.

Used by `trialfinder erase EMAIL`, the admin area's erase action, and the patient's own
"withdraw my request". A request's emails go with it, and so do the `.eml` files the
`file` backend wrote. When the site's email had already gone out, the site is sent a
short note asking it to delete the details too; the note names the request by its
reference and Message-ID, not by the patient. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.addresses import address_key
from app.alerts.models import Alert, AlertLink
from app.config import Settings
from app.contact.emails import DeletionNote
from app.contact.models import ContactRequest
from app.notes.service import revoke_emailed_to
from app.outbox.email.rendering import render_email
from app.outbox.email.senders import FileSender
from app.outbox.models import SENDING, SENT, OutboxMessage
from app.outbox.queue import Letter, enqueue
from app.ratelimit import RateLimitRow

log = logging.getLogger("trialfinder.privacy")
SITE_EMAIL = "contact_site"


@dataclass
class Removed:
    """What an erasure, withdrawal or purge removed: counts only."""

    requests: int = 0
    messages: int = 0
    mail_files: int = 0
    notes_to_sites: int = 0
    alerts: int = 0
    shares: int = 0  # share links revoked (erasure) or whose notes were wiped (purge)

    def __str__(self) -> str:
        return (
            f"{self.requests} contact request(s), {self.messages} email(s) in the queue, "
            f"{self.mail_files} mail file(s), {self.alerts} alert(s) removed, "
            f"{self.shares} shared link(s) withdrawn; "
            f"{self.notes_to_sites} site(s) asked to delete the details"
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "messages": self.messages,
            "mail_files": self.mail_files,
            "notes_to_sites": self.notes_to_sites,
            "alerts": self.alerts,
            "shares": self.shares,
        }


def remove_mail_file(settings: Settings, message_id: str) -> bool:
    """Delete the `.eml` file the `file` backend wrote for this message, if there is one."""
    path = FileSender(Path(settings.mail_dir)).path_for(message_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def remove_messages(
    session: Session, messages: list[OutboxMessage], *, settings: Settings, removed: Removed
) -> None:
    for message in messages:
        if remove_mail_file(settings, message.message_id):
            removed.mail_files += 1
        session.delete(message)
        removed.messages += 1


def _note_to_site(request: ContactRequest, site_email: OutboxMessage, settings: Settings) -> Letter:
    domain = urlsplit(settings.base_url).hostname or "localhost"
    context = DeletionNote(
        public_id=request.public_id,
        nct_id=request.nct_id,
        study_title=request.study_title,
        site_name=request.site_name,
        sent_on=site_email.sent_at or site_email.created_at,
        original_message_id=site_email.message_id,
        site_url=settings.base_url,
    )
    mail = render_email(context)
    return Letter(
        f"<deletion-{request.public_id}@{domain}>",
        context.template,
        (request.routed_to or "",),
        None,
        mail.subject,
        mail.text,
        mail.html,
    )


def forget_request(
    session: Session,
    request: ContactRequest,
    *,
    settings: Settings,
    now: dt.datetime,
    removed: Removed,
) -> None:
    """Delete one request and its emails; ask the site to delete what it was sent."""
    # Locked, so a worker cannot claim and send the site's email between this read and the
    # delete: it has either claimed it already (then the site is asked to delete) or never.
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.contact_request_id == request.id)
            .with_for_update()
        )
    )
    reached_site = [m for m in messages if m.kind == SITE_EMAIL and m.status in (SENT, SENDING)]
    remove_messages(session, messages, settings=settings, removed=removed)
    if reached_site and request.routed_to:
        note = _note_to_site(request, reached_site[0], settings)
        enqueue(session, note, sender=settings.mail_from, now=now)
        removed.notes_to_sites += 1
    session.delete(request)
    removed.requests += 1
    session.flush()


def erase_person(session: Session, email: str, *, settings: Settings, now: dt.datetime) -> Removed:
    """Everything about the person with this address: their requests (with their emails),
    their alerts, links to shared notes emailed to them, any other email sent to them, and
    their rate-limit rows. The address
    itself is never stored or logged."""
    key = address_key(email)
    removed = Removed()
    requests = session.scalars(
        select(ContactRequest).where(ContactRequest.email_key == key).with_for_update()
    )
    for request in list(requests):
        forget_request(session, request, settings=settings, now=now, removed=removed)
    # Their alerts, with the record of what each was sent and the manage links they asked for.
    alerts = session.scalars(select(Alert).where(Alert.email_key == key).with_for_update())
    for alert in list(alerts):
        session.delete(alert)
        removed.alerts += 1
    session.execute(delete(AlertLink).where(AlertLink.email_key == key))
    # Links to shared notes that were emailed to this address stop working, notes wiped.
    removed.shares += revoke_emailed_to(session, key, now=now)
    others = session.scalars(
        select(OutboxMessage).where(OutboxMessage.recipient_key == key).with_for_update()
    )
    remove_messages(session, list(others), settings=settings, removed=removed)
    # The per-address limits' rows are keyed by the same hash: they go too.
    session.execute(delete(RateLimitRow).where(RateLimitRow.key == key))
    session.flush()
    log.info("erasure: %s", removed)
    return removed
