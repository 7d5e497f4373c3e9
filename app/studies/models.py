"""Studies and their sites, as patients and routing need them.

The search helpers are derived columns: `search_*` hold normalised text that the
full-text indexes (SQLite FTS5 and PostgreSQL tsvector, created by the migrations)
read. They are written by the importer and by any edit through `Study.refresh_search`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.addresses import usable
from app.db import Base, UTCDateTime
from app.studies import rules


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Study(Base):
    __tablename__ = "studies"
    __table_args__ = (
        Index(
            "ix_studies_eligibility",
            "overall_status",
            "sex",
            "min_age_years",
            "max_age_years",
            "last_updated",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nct_id: Mapped[str] = mapped_column(String(16), unique=True)
    brief_title: Mapped[str] = mapped_column(Text)
    official_title: Mapped[str | None] = mapped_column(Text)
    acronym: Mapped[str | None] = mapped_column(Text)
    organization: Mapped[str | None] = mapped_column(Text)
    lead_sponsor: Mapped[str | None] = mapped_column(Text)
    brief_summary: Mapped[str | None] = mapped_column(Text)
    detailed_description: Mapped[str | None] = mapped_column(Text)
    overall_status: Mapped[str] = mapped_column(String(40))
    study_type: Mapped[str | None] = mapped_column(Text)
    phases: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_date: Mapped[str | None] = mapped_column(String(10))
    primary_completion_date: Mapped[str | None] = mapped_column(String(10))
    completion_date: Mapped[str | None] = mapped_column(String(10))
    first_posted: Mapped[str | None] = mapped_column(String(10))
    last_updated: Mapped[str | None] = mapped_column(String(10))
    conditions: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    mesh_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    mesh_ancestors: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligibility_criteria: Mapped[str | None] = mapped_column(Text)
    sex: Mapped[str] = mapped_column(String(10), default="ALL")
    min_age: Mapped[str | None] = mapped_column(Text)
    max_age: Mapped[str | None] = mapped_column(Text)
    min_age_years: Mapped[float | None] = mapped_column(Float)
    max_age_years: Mapped[float | None] = mapped_column(Float)
    healthy_volunteers: Mapped[bool | None] = mapped_column(Boolean)
    central_contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Allocation, models, purpose, masking, enrollment (app/ctgov/schemas.py: _design).
    design: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    interventions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    search_conditions: Mapped[str] = mapped_column(Text, default="")
    search_mesh: Mapped[str] = mapped_column(Text, default="")
    search_title: Mapped[str] = mapped_column(Text, default="")
    source_hash: Mapped[str] = mapped_column(String(64))
    # Fields an administrator edited: {field: value}. The importer applies them over the
    # registry's values, so a ClinicalTrials.gov import never undoes an edit.
    admin_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # When the study became visible to searches: first seen here, and when it entered its
    # current overall status. Patient alerts find what is new from these (app/alerts).
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    status_since: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    sites: Mapped[list[Site]] = relationship(
        back_populates="study",
        cascade="all, delete-orphan",
        order_by="Site.position",
        passive_deletes=True,
    )

    @property
    def title(self) -> str:
        return self.brief_title

    @property
    def takes_contacts(self) -> bool:
        """The study itself is in a status that takes contact requests."""
        return rules.takes_contacts(self.overall_status, site=False)

    def reaches_study_team(self, *, lists_sites: bool) -> bool:
        """Takes contacts through its study team: it lists no sites, but a central contact
        email. The team then tells the patient where they can take part."""
        return (
            self.takes_contacts
            and not lists_sites
            and any(usable(c.get("email")) for c in self.central_contacts)
        )

    def contact_for(self, site: Site | None) -> dict[str, Any] | None:
        """The contact a patient is shown for `site` (None: the study team)."""
        return rules.primary_contact(site.contacts if site else [], self.central_contacts)

    def contact_country(self, site: Site | None) -> str | None:
        """Where the shown contact's phone number is read when it lacks a country code.

        The site's country for the site's own contact. None for the study's central
        contact: a sponsor's desk may be anywhere, and a US number read in China is a
        valid Chinese number, so it is shown as the registry wrote it.
        """
        contact = self.contact_for(site)
        if site is None or contact is None or contact not in site.contacts:
            return None
        return site.country


class Site(Base):
    """One location of a study: a hospital or clinic that may take contacts."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    facility: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    zip: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(40))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Added or edited by an administrator: the importer leaves such a site alone.
    admin_managed: Mapped[bool] = mapped_column(Boolean, default=False)
    # For a registry site an administrator took over: how the registry names it, so that
    # imports recognise their copy of it after the facility or address was edited here.
    registry_key: Mapped[str | None] = mapped_column(Text)
    # ISO 639-1 codes of the other languages the site's team speaks, recorded by an
    # administrator. Not from the registry, so recording them does not take the site over:
    # imports still update its status and address and leave these alone.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # When the site was first seen here, and when it entered its own status (see Study).
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    status_since: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    study: Mapped[Study] = relationship(back_populates="sites")

    @hybrid_property
    def effective_status(self) -> str:
        """The site's own status, or the study's when the listing gives none."""
        return rules.effective_status(self.status, self.study.overall_status)

    @effective_status.inplace.expression
    @classmethod
    def _effective_status_sql(cls) -> ColumnElement[str]:
        # The same rule in SQL; the query must join Study.
        return func.coalesce(cls.status, Study.overall_status)

    @property
    def takes_contacts(self) -> bool:
        """Both the study and this site are in a status that takes contact requests."""
        return rules.takes_contacts(self.study.overall_status, self.status, site=True)


class SearchTerm(Base):
    """Every word that can match a condition search: the vocabulary for typo tolerance."""

    __tablename__ = "search_terms"

    term: Mapped[str] = mapped_column(String(100), primary_key=True)
