"""Contact requests: what a patient submitted, when, for which site, and where it went."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto import Encrypted
from app.db import Base, UTCDateTime

# The site name of a request to a study that lists no sites.
STUDY_TEAM = "the study team"


class ContactRequest(Base):
    """One "get in touch" request. Personal data lives here and in its outbox rows only.

    The study and site are referenced and also copied (NCT ID, site name), so the request
    stays readable when a later import removes the site from the listing.
    """

    __tablename__ = "contact_requests"
    __table_args__ = (
        # The same patient, study and site on the same UTC day is one request even when
        # two submissions race; the service also looks back a full 24 hours.
        UniqueConstraint("dedup_key", "dedup_day"),
        Index("ix_contact_requests_dedup_key_created_at", "dedup_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("studies.id", ondelete="SET NULL"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="SET NULL"), index=True
    )
    nct_id: Mapped[str] = mapped_column(String(16))
    study_title: Mapped[str] = mapped_column(Text)
    site_name: Mapped[str] = mapped_column(Text)
    # Personal data: encrypted at rest (app/crypto.py), found by email_key only.
    first_name: Mapped[str] = mapped_column(Encrypted())
    last_name: Mapped[str] = mapped_column(Encrypted())
    email: Mapped[str] = mapped_column(Encrypted())
    phone: Mapped[str] = mapped_column(Encrypted())
    language: Mapped[str | None] = mapped_column(Encrypted())
    email_key: Mapped[str] = mapped_column(String(64), index=True)
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    consent_version: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the token in the patient's "see or withdraw my request" link.
    access_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    dedup_key: Mapped[str] = mapped_column(String(64))  # keyed hash of address, study, site
    dedup_day: Mapped[int] = mapped_column(Integer)
    # Routing decision: "site", "central", "fallback" or "flagged" (no address known).
    routing: Mapped[str] = mapped_column(String(16))
    routed_to: Mapped[str | None] = mapped_column(String(254))

    @property
    def flagged(self) -> bool:
        return self.routing == "flagged"

    @property
    def team(self) -> str:
        """Who the request is for, as a phrase: "the research team at X"."""
        if self.site_name == STUDY_TEAM:
            return "the study's research team"
        return f"the research team at {self.site_name}"


class ContactCount(Base):
    """Anonymous statistics of requests whose personal data was purged after retention:
    how many went to which study and site on which day, and how they were routed."""

    __tablename__ = "contact_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    nct_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    site_name: Mapped[str] = mapped_column(Text, primary_key=True)
    routing: Mapped[str] = mapped_column(String(16), primary_key=True)
    requests: Mapped[int] = mapped_column(Integer)
