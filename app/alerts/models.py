"""Alerts: a patient's saved search, its consent, its links, and what it was already sent.

An alert is personal (an address, and a search that names a condition and often a place),
so both are encrypted at rest (app/crypto.py) and found only by keyed hashes. Its links
are random tokens: the database keeps their SHA-256 to find the alert, and the token
itself encrypted, so that the next digest can carry the same link. Neither depends on
TRIALFINDER_SECRET_KEY, so changing that key breaks no link.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import Encrypted, EncryptedJSON
from app.db import Base, UTCDateTime

PENDING = "pending"  # signed up, not confirmed: only the confirmation email may go out
ACTIVE = "active"  # confirmed: digests go out
PAUSED = "paused"  # a digest or confirmation bounced for good (SMTP 5xx): nothing goes out


class Alert(Base):
    """One saved search of one address, confirmed on its own."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(Encrypted())
    email_key: Mapped[str] = mapped_column(String(64), index=True)
    # The search (app/alerts/searches.py: AlertSearch.as_dict), encrypted: it names a
    # condition and often where the patient lives.
    search: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    # Keyed hash of the address and the search: the same sign-up twice is one alert.
    dedup_key: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Consent as given on the sign-up form: when, from which page, under which wording.
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    consent_page: Mapped[str] = mapped_column(String(40))
    consent_version: Mapped[str] = mapped_column(String(16))
    confirm_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    unsubscribe_key: Mapped[str] = mapped_column(String(64), unique=True)
    unsubscribe_token: Mapped[str] = mapped_column(Encrypted())
    manage_key: Mapped[str] = mapped_column(String(64), unique=True)
    manage_token: Mapped[str] = mapped_column(Encrypted())
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_digest_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AlertStudy(Base):
    """A study an alert was sent (or counted as sent): never the same one twice."""

    __tablename__ = "alert_studies"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    study_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class AlertLink(Base):
    """A manage link sent on request from /alerts/manage: it opens every alert of one
    address until it expires."""

    __tablename__ = "alert_links"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    email_key: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class AlertRun(Base):
    """One run of the digest: the window it covered and what it found, in counts.

    The next run starts where the last finished one stopped (`until`), so a run that
    fails midway is covered again; what it had sent is not sent twice (AlertStudy).
    """

    __tablename__ = "alert_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    alerts: Mapped[int] = mapped_column(Integer, default=0)
    digests: Mapped[int] = mapped_column(Integer, default=0)
    studies: Mapped[int] = mapped_column(Integer, default=0)
