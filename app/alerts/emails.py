"""The alert emails, as typed contexts for their templates (templates/email/alert_*).

Subjects name no condition or other health detail: a subject shows on lock screens and in
shared inboxes. Bodies may: only the patient reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from app.outbox.email.rendering import EmailContext

SAMPLE_SITE = "https://trialfinder.example.org"


@dataclass(frozen=True)
class AlertConfirmation(EmailContext):
    template = "alert_confirm"
    summary: str
    confirm_url: str
    expires_days: int
    unsubscribe_url: str
    site_url: str

    @classmethod
    def sample(cls) -> Self:
        return cls(
            summary="Imaginary fever · within 100 km of Springfield",
            confirm_url=f"{SAMPLE_SITE}/alerts/confirm/sample-token",
            expires_days=7,
            unsubscribe_url=f"{SAMPLE_SITE}/alerts/unsubscribe/sample-token",
            site_url=SAMPLE_SITE,
        )


@dataclass(frozen=True)
class DigestStudy:
    nct_id: str
    title: str
    url: str
    status: str  # "Recruiting" or "Not yet recruiting"
    site: str | None  # the nearest site within the radius, "Facility, City, Country"
    distance_km: float | None
    sites: int  # the study's sites in the alert's statuses


@dataclass(frozen=True)
class AlertDigest(EmailContext):
    template = "alert_digest"
    summary: str
    studies: list[DigestStudy]
    more: int  # studies found beyond those listed
    results_url: str
    manage_url: str
    unsubscribe_url: str
    site_url: str

    @classmethod
    def sample(cls) -> Self:
        study = DigestStudy(
            nct_id="NCT90000001",
            title="A made-up study of an imaginary fever",
            url=f"{SAMPLE_SITE}/studies/NCT90000001",
            status="Recruiting",
            site="Lakeside Clinic, Springfield, United States",
            distance_km=12.4,
            sites=3,
        )
        return cls(
            summary="Imaginary fever · within 100 km of Springfield",
            studies=[study],
            more=0,
            results_url=f"{SAMPLE_SITE}/studies?condition=imaginary+fever",
            manage_url=f"{SAMPLE_SITE}/alerts/manage/sample-token",
            unsubscribe_url=f"{SAMPLE_SITE}/alerts/unsubscribe/sample-token",
            site_url=SAMPLE_SITE,
        )


@dataclass(frozen=True)
class AlertManageLink(EmailContext):
    template = "alert_manage"
    manage_url: str
    expires_days: int
    unsubscribe_url: str
    site_url: str

    @classmethod
    def sample(cls) -> Self:
        return cls(
            manage_url=f"{SAMPLE_SITE}/alerts/manage/sample-token",
            expires_days=7,
            unsubscribe_url=f"{SAMPLE_SITE}/alerts/unsubscribe/sample-token",
            site_url=SAMPLE_SITE,
        )
