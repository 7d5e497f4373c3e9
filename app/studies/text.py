"""Text normalisation shared by the importer (what is indexed) and search (what is asked).

Both sides go through `normalize` so that SQLite and PostgreSQL see the same plain,
lower-case, accent-free words separated by single spaces; the engines then only stem.
"""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """Lower-case, strip accents, keep letters and digits: "Sjögren's" -> "sjogren s"."""
    if text.isascii():
        return _NON_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", ascii_only).strip()


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order."""
    return normalize(text).split()
