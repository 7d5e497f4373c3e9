"""The study rules the rest of TrialFinder builds on: statuses, NCT IDs, ages, contacts.

Importer, search, pages, contact flow and admin area all ask these questions; each is
answered here once. This module imports nothing of the project's, so anything may use it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

NCT_ID: Final = re.compile(r"^NCT\d{8}$")
"""A ClinicalTrials.gov identifier: NCT followed by 8 digits."""

# ClinicalTrials.gov's overall and site statuses (API v2 enum Status). The order matters:
# the SQLite spatial index stores a status as its position here plus one, and the first
# migration spells the same list out, since migrations never import application code.
STATUSES: Final = (
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ENROLLING_BY_INVITATION",
    "ACTIVE_NOT_RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "COMPLETED",
    "WITHDRAWN",
    "UNKNOWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
)
RECRUITING: Final = "RECRUITING"
NOT_YET_RECRUITING: Final = "NOT_YET_RECRUITING"
DEFAULT_STATUSES: Final = (RECRUITING,)
"""What a search shows when it names no status: studies recruiting now."""

OPEN_STATUSES: Final = frozenset({RECRUITING, NOT_YET_RECRUITING, "ENROLLING_BY_INVITATION"})
"""Listings that say the study is, or will soon be, taking part in people."""

CONTACTABLE: Final = (RECRUITING, NOT_YET_RECRUITING)
"""Statuses in which a study, and a site, take contact requests from patients."""

SEXES: Final = ("ALL", "FEMALE", "MALE")

FICTIONAL_PREFIX: Final = "NCT9"
"""Demo studies use NCT9 + 7 digits, a range the registry has not reached."""


def effective_status(site_status: str | None, study_status: str) -> str:
    """A site's own status, or its study's when the listing gives the site none."""
    return site_status or study_status


def takes_contacts(study_status: str, site_status: str | None = None, *, site: bool) -> bool:
    """Whether a study (site=False), or one of its sites (site=True), takes contacts."""
    if study_status not in CONTACTABLE:
        return False
    return not site or effective_status(site_status, study_status) in CONTACTABLE


def is_fictional(nct_id: str) -> bool:
    """True for the demo data's NCT IDs, which no real study has."""
    return nct_id.startswith(FICTIONAL_PREFIX)


# --- ages ------------------------------------------------------------------------------

MAX_AGE_YEARS: Final = 150
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")
_UNIT_YEARS = {
    "year": 1.0,
    "month": 1 / 12,
    "week": 7 / 365.25,
    "day": 1 / 365.25,
    "hour": 1 / (365.25 * 24),
    "minute": 1 / (365.25 * 24 * 60),
}


def age_in_years(text: str | None) -> float | None:
    """ "18 Years" -> 18.0, "6 Months" -> 0.5, "2 Weeks" -> 0.0383; None stays None.

    Raises ValueError for text that is not a number and a unit, or an absurd age.
    """
    if text is None or not text.strip() or text.strip().upper() in {"N/A", "NA"}:
        return None
    match = _AGE.match(text)
    if not match:
        raise ValueError(f'age "{text}" is not a number followed by a unit')
    unit = match.group(2).lower().rstrip("s")
    if unit not in _UNIT_YEARS:
        raise ValueError(f'age "{text}" has an unknown unit')
    years = float(match.group(1)) * _UNIT_YEARS[unit]
    if years > MAX_AGE_YEARS:
        raise ValueError(f'age "{text}" is more than {MAX_AGE_YEARS} years')
    return years


# --- contacts --------------------------------------------------------------------------


def primary_contact(
    site_contacts: Sequence[dict[str, Any]], central_contacts: Sequence[dict[str, Any]]
) -> dict[str, Any] | None:
    """The contact shown to the patient, chosen the way a request is routed.

    The site's first contact with an email, else its first with a phone; else the same
    among the study's central contacts; else the first published at all. So the person
    shown is, where possible, the one the request goes to.
    """
    for contacts in (site_contacts, central_contacts):
        for key in ("email", "phone"):
            for contact in contacts:
                if contact.get(key):
                    return contact
    return next(iter(site_contacts or central_contacts), None)
