"""Whole numbers typed into URLs and forms: site ids, page numbers, counts.

Only ASCII digits count (Python's `isdigit` also accepts "²" and "①", which `int` then
refuses), and every number is bounded, so that an absurd one is simply "not found"
rather than an error from the database (PostgreSQL's integer columns stop at 2**31 - 1).
"""

from __future__ import annotations

import re
from typing import Final

MAX_ID: Final = 2**31 - 1
"""The largest id a row can have (PostgreSQL `integer`)."""

_DIGITS = re.compile(r"[0-9]{1,18}", re.ASCII)


def whole_number(text: str | None, *, maximum: int) -> int | None:
    """`text` as a whole number from 0 to `maximum`, or None for anything else."""
    if text is None or not _DIGITS.fullmatch(text.strip()):
        return None
    value = int(text)
    return value if value <= maximum else None


def row_id(text: str | None) -> int | None:
    """A row id (1 or more) from a URL or form, or None."""
    value = whole_number(text, maximum=MAX_ID)
    return value if value else None
