"""The outbox: every email is a row here, written in the same transaction as what it reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import Encrypted, EncryptedJSON
from app.db import Base, UTCDateTime

QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
RESOLVED = "resolved"  # failed, then closed by an administrator: its content is gone


class OutboxMessage(Base):
    """One email, composed when it was queued, with its delivery state and history.

    `message_id` is fixed at composition, so every attempt (and a resend after a crash)
    carries the same Message-ID and recipients can recognise a duplicate.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    contact_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_requests.id", ondelete="SET NULL"), index=True
    )
    sender: Mapped[str] = mapped_column(String(320))
    # The content, encrypted at rest (app/crypto.py), and removed once delivered: None then.
    recipients: Mapped[list[str] | None] = mapped_column(EncryptedJSON())
    reply_to: Mapped[str | None] = mapped_column(Encrypted())
    subject: Mapped[str | None] = mapped_column(Encrypted())
    body_text: Mapped[str | None] = mapped_column(Encrypted())
    body_html: Mapped[str | None] = mapped_column(Encrypted())
    # Extra header fields, e.g. List-Unsubscribe (its link is personal: encrypted too).
    headers: Mapped[dict[str, str] | None] = mapped_column(EncryptedJSON())
    # Keyed hash of the recipient: kept after delivery, to find a person's mail for erasure.
    recipient_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Each attempt: {"at": ISO time, "worker": id, "outcome": "sent"|"retry"|"failed", "error": …},
    # the server's reply with any email address in it replaced (app/outbox/scrub.py).
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
