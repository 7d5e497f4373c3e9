"""Countries: the names people and ClinicalTrials.gov write, read as ISO 3166 codes.

One table of everyday and historical names that pycountry does not know, and one way to
compare names (case, accents, apostrophes and spacing do not matter). The place search
reads country qualifiers ("Paris, France") through `country_names`; the contact form
reads a site's country ("Korea, Republic of") through `country_code`, to know how to
read a phone number written without its country code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache, lru_cache

import pycountry

# ClinicalTrials.gov spellings (current and historical) and everyday names that pycountry
# does not know; keys are in `country_key` form.
ALIASES = {
    "america": "US",
    "usa": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "vatican": "VA",
    "turkey": "TR",
    "russia": "RU",
    "korea": "KR",
    "korea, south": "KR",
    "korea, north": "KP",
    "macedonia": "MK",
    "macedonia, the former yugoslav republic of": "MK",
    "former serbia and montenegro": "RS",
    "serbia and montenegro": "RS",
    "swaziland": "SZ",
    "cape verde": "CV",
    "macau": "MO",
    "burma": "MM",
    "ivory coast": "CI",
    "east timor": "TL",
    "micronesia": "FM",
    "democratic republic of the congo": "CD",
    "libyan arab jamahiriya": "LY",
    "palestine": "PS",
    "palestinian territory, occupied": "PS",
    "palestinian territories": "PS",
    "virgin islands (u.s.)": "VI",
    "virgin islands (british)": "VG",
    "netherlands antilles": "CW",
    "kosovo": "XK",
}
"""Names pycountry does not know, by their ISO 3166 alpha-2 code."""

_APOSTROPHES = re.compile("[`\u00b4\u02bb\u02bc\u2018\u2019]")


def country_key(name: str) -> str:
    """A country name as compared: case-folded, without accents, apostrophes unified."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_APOSTROPHES.sub("'", bare).casefold().split())


def country_names() -> Iterator[tuple[str, str]]:
    """Every (name or code, alpha-2 code) we read as a country, official and everyday."""
    for record in pycountry.countries:
        code = str(record.alpha_2)
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(record, attribute, None)
            if value:
                yield str(value), code
    yield from ALIASES.items()


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, code in country_names():
        index.setdefault(country_key(name), code)
    return index


@lru_cache(maxsize=1024)
def country_code(country: str | None) -> str | None:
    """ISO 3166 alpha-2 code for a country name, as ClinicalTrials.gov spells it.

    "United States" -> "US", "Korea, Republic of" -> "KR", "Turkey (Türkiye)" -> "TR";
    None for None or a name not recognised.
    """
    if not country:
        return None
    index = _index()
    found = index.get(country_key(country))
    if found is None and "(" in country:
        # ClinicalTrials.gov writes some names with another in brackets: "Turkey (Türkiye)".
        outer, _, inner = country.partition("(")
        found = index.get(country_key(outer)) or index.get(country_key(inner.rstrip(") ")))
    return found
