"""The consent a patient gives on the alert sign-up form, in every wording it has had.

Each alert stores the version its patient agreed to. Never edit a published wording: add
a new version and point CONSENT_VERSION at it.
"""

from __future__ import annotations

WORDINGS: dict[str, str] = {
    "2026-11-30": (
        "I agree that TrialFinder may email me about new studies that match this search, "
        "and may keep my email address and this search until I unsubscribe, as the privacy "
        "page describes."
    ),
}

CONSENT_VERSION = "2026-11-30"
"""The wording the sign-up form shows today."""

PAGES = frozenset({"alerts", "results", "confirmation", "study"})
"""The pages a sign-up can come from (the form's `from` field); anything else is "alerts"."""


def wording(version: str) -> str:
    return WORDINGS[version]
