"""Passcodes for shared notes: the rules a patient's own passcode must meet, and the
generated four-word kind.

A generated passcode is four words drawn with `secrets` from a list of 542 plain, friendly
words (words.txt: no illness, no harm, nothing that reads badly to a patient), about 36
bits. Guessing it online is stopped by the per-link limit (5 wrong tries in 15 minutes);
offline, by Argon2id and by the data key that encrypts the sealed notes once more.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from functools import cache
from pathlib import Path

MIN_LENGTH = 8
MAX_LENGTH = 200
WORDS_IN_GENERATED = 4
TOO_SHORT = f"Use a passcode of at least {MIN_LENGTH} characters, or keep the one we suggest."
TOO_LONG = f"Use a passcode of at most {MAX_LENGTH} characters."
_SEPARATORS = re.compile(r"[\s\-_.\u2010-\u2015\u2212]+")


@cache
def words() -> tuple[str, ...]:
    return tuple((Path(__file__).with_name("words.txt")).read_text().split())


def generate() -> str:
    """Four random words joined by hyphens: easy to read out on the phone."""
    choices = words()
    return "-".join(secrets.choice(choices) for _ in range(WORDS_IN_GENERATED))


def normalise(passcode: str) -> str:
    """The passcode as sealed and as tried, so that what is read out on the phone opens it.

    Unicode compatibility form (NFKC: an accent typed as one character or two, full-width
    letters), case ignored, invisible and control characters dropped, and every run of
    spaces, hyphens, underscores or dots between words made one hyphen:
    "Echo Bean walnut-noodle" and "echo-bean-walnut-noodle" are the same passcode.
    """
    text = unicodedata.normalize("NFKC", passcode).casefold()
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    return _SEPARATORS.sub("-", text).strip("-")


def problem(passcode: str) -> str | None:
    """What is wrong with a passcode, in words for the patient; None when it will do.

    The length is that of the passcode as `normalise` keeps it, so spaces at either end
    and invisible characters do not count.
    """
    length = len(normalise(passcode))
    if length < MIN_LENGTH:
        return TOO_SHORT
    if length > MAX_LENGTH:
        return TOO_LONG
    return None
