"""The two emails of a contact request, as typed contexts for their templates.

`SiteEmail` goes to the study team (`templates/email/contact_site/`), `PatientCopy` to the
patient (`templates/email/contact_patient/`). Both say the same things, so they share one
set of fields. Subjects name the study by its NCT ID and the site, never the condition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any, Self

from app.contact.routing import Routing, greeting_name
from app.outbox.email.rendering import EmailContext
from app.studies.checklist import Answered


@dataclass(frozen=True)
class Patient:
    """Who asked, and when; `team` is who they asked, as a phrase ("the research team at X")."""

    first_name: str
    last_name: str
    email: str
    phone: str
    created_at: dt.datetime
    public_id: str
    team: str

    @classmethod
    def of(cls, request: object) -> Patient:
        """From a stored request (its attributes carry these names)."""
        return cls(**{field.name: getattr(request, field.name) for field in fields(cls)})


@dataclass(frozen=True)
class StudyName:
    nct_id: str
    brief_title: str


@dataclass(frozen=True)
class PublishedContact:
    """The study's own contact, as the listing publishes it.

    `country` is where a phone number written without its country code is read: the
    site's for the site's own contact, none for the study's (`Study.contact_country`).
    `name` is a person's or None: a placeholder ("Site Public Contact") is no one the
    patient could ask for, so the email says "the study team" instead.
    """

    name: str | None
    phone: str | None
    email: str | None
    country: str | None = None

    @classmethod
    def of(
        cls,
        contact: dict[str, Any] | None,
        *,
        country: str | None = None,
        sponsor: str | None = None,
    ) -> PublishedContact | None:
        if not contact or not (contact.get("phone") or contact.get("email")):
            return None
        name = greeting_name(contact.get("name"), sponsor=sponsor)
        return cls(name, contact.get("phone"), contact.get("email"), country)


@dataclass(frozen=True)
class ContactEmail(EmailContext):
    request: Patient
    study: StudyName
    has_site: bool  # False: the study lists no sites, the request went to its team
    site_name: str
    site_short: str
    routing: Routing
    language: str | None  # the preferred other language's name, in English
    study_url: str
    site_url: str
    contact: PublishedContact | None
    retention_days: int
    # The patient's "see or withdraw my request" link: in their copy only.
    access_url: str | None = None
    # The patient's checklist answers, when they chose to send them (the site's email
    # shows them; the patient's copy only says they went along).
    answers: tuple[Answered, ...] = ()

    @classmethod
    def sample(cls) -> Self:
        return cls(
            request=Patient(
                first_name="Ana",
                last_name="Example",
                email="ana@example.com",
                phone="+12025550143",
                created_at=dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC),
                public_id="sample-reference",
                team="the research team at Lakeside Example Clinic",
            ),
            study=StudyName("NCT90000001", "A fictional study of breathing exercises"),
            has_site=True,
            site_name="Lakeside Example Clinic, Evanston, Illinois, United States",
            site_short="Lakeside Example Clinic",
            routing=Routing("site", "coordinator@example.org", "Dana Example"),
            language="Portuguese",
            study_url="https://trialfinder.example/studies/NCT90000001",
            site_url="https://trialfinder.example",
            contact=PublishedContact(
                "Dana Example", "312-555-0147", "dana@example.org", "United States"
            ),
            retention_days=180,
            access_url="https://trialfinder.example/requests/sample-token",
            answers=(
                Answered("Inclusion criteria", "Adults who can walk 100 metres", "Yes"),
                Answered("Exclusion criteria", "Pregnancy", "Not sure"),
            ),
        )


@dataclass(frozen=True)
class SiteEmail(ContactEmail):
    template = "contact_site"


@dataclass(frozen=True)
class PatientCopy(ContactEmail):
    template = "contact_patient"


@dataclass(frozen=True)
class DeletionNote(EmailContext):
    """To a site whose email reached it, when the patient withdrew or was erased.

    It names the request by reference, study and date, never by the patient: the site
    finds the email by these, and this note carries no personal data of its own.
    """

    template = "contact_deletion"

    public_id: str
    nct_id: str
    study_title: str
    site_name: str
    sent_on: dt.datetime
    original_message_id: str
    site_url: str

    @classmethod
    def sample(cls) -> Self:
        """The deletion note for ContactEmail's sample request."""
        like = ContactEmail.sample()
        site_email = "<contact-sample-reference.site@trialfinder.example>"
        study, patient = like.study, like.request
        return cls(
            patient.public_id, study.nct_id, study.brief_title, like.site_name,
            patient.created_at, site_email, like.site_url,
        )  # fmt: skip
