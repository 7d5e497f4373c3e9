"""The consent a patient gives on the contact form, in every wording it has had.

Each request stores the version of the wording its patient agreed to, so what they
agreed to can be shown later even after the wording changes. Never edit a published
wording: add a new version and point CONSENT_VERSION at it.
"""

from __future__ import annotations

WORDINGS: dict[str, str] = {
    "2026-11-27": (
        "I agree that TrialFinder may share these details with the study team so they "
        "can contact me."
    ),
    "2026-11-30": (
        "I agree that TrialFinder may share these details with the study team so they "
        "can contact me, and may keep them as the privacy page describes."
    ),
}

CONSENT_VERSION = "2026-11-30"
"""The wording the contact form shows today."""

FIRST_VERSION = "2026-11-27"
"""The wording of every request stored before versions were recorded."""


def wording(version: str) -> str:
    """The words a patient agreed to under this version."""
    return WORDINGS[version]
