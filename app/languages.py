"""The languages a patient can name as the one they would rather be contacted in.

This module owns the list behind the "preferred other language" select on the contact
form, and the check that a submitted code is one of its entries. The list is every
ISO 639-1 language known to `pycountry` (the two-letter codes the study team's systems
and interpreters use), under its English name, sorted by name. The dozen languages
patients most often choose are repeated in `COMMON` so the page can offer them first.

`pycountry`'s names come from the ISO standard and some read oddly to a patient
("Modern Greek (1453-)", "Panjabi"); a short table below replaces those with the
everyday name. Everything is built once at import: a few hundred small objects.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry


@dataclass(frozen=True)
class Language:
    """One entry of the select: ISO 639-1 `code` (e.g. "es") and English `name`."""

    code: str
    name: str


# Everyday English names where the ISO name is archaic, qualified or ambiguous.
_NAMES = {
    "el": "Greek",  # "Modern Greek (1453-)"
    "pa": "Punjabi",  # "Panjabi"
    "ps": "Pashto",  # "Pushto"
    "ms": "Malay",  # "Malay (macrolanguage)"
    "ne": "Nepali",  # "Nepali (macrolanguage)"
    "or": "Odia",  # "Oriya (macrolanguage)"
    "sw": "Swahili",  # "Swahili (macrolanguage)"
    "oc": "Occitan",  # "Occitan (post 1500)"
    "ia": "Interlingua",  # "Interlingua (International Auxiliary Language Association)"
    "to": "Tongan",  # "Tonga (Tonga Islands)", not Tonga of Zambia ("tog")
    "ht": "Haitian Creole",  # "Haitian"
    "ky": "Kyrgyz",  # "Kirghiz"
    "ug": "Uyghur",  # "Uighur"
    "fa": "Persian (Farsi)",  # patients often know it only as Farsi
}

# The languages other than English most spoken by patients in the US, Europe and Asia.
_COMMON_CODES = ("es", "zh", "fr", "ar", "hi", "pt", "ru", "vi", "ko", "de", "tl", "it")


def _sort_key(language: Language) -> tuple[str, str]:
    return language.name.casefold(), language.code


ENGLISH = "en"
"""Not offered: the listings, the emails and the pages are in English, so the question is
which language other than English the patient (or a site's team) prefers."""


def _build() -> tuple[Language, ...]:
    found: dict[str, Language] = {}
    for record in pycountry.languages:
        code = getattr(record, "alpha_2", None)
        if not code:
            continue
        code = str(code)
        if code == ENGLISH:
            continue
        found[code] = Language(code=code, name=_NAMES.get(code, str(record.name)))
    return tuple(sorted(found.values(), key=_sort_key))


ALL: tuple[Language, ...] = _build()
"""Every ISO 639-1 language but English, sorted by English name (case-insensitively)."""

_BY_CODE: dict[str, Language] = {language.code: language for language in ALL}

COMMON: tuple[Language, ...] = tuple(
    sorted((_BY_CODE[code] for code in _COMMON_CODES), key=_sort_key)
)
"""The most frequently chosen languages, also in `ALL`, sorted by name: offer them first."""


def language_name(code: str) -> str | None:
    """English name for an ISO 639-1 `code` ("es" -> "Spanish"); None when not in `ALL`."""
    language = _BY_CODE.get(code.strip().lower())
    return language.name if language else None


def is_language(code: str) -> bool:
    """True when `code` is an ISO 639-1 code in `ALL` (case and surrounding spaces ignored)."""
    return code.strip().lower() in _BY_CODE
