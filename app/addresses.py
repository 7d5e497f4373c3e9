"""Email addresses: the one normaliser, and the one way to look an address up.

`mail_address` gives the form mail is sent to. `identity` gives the form two addresses
are compared in (the same address typed in another case is the same person).
`lookup_key` turns such a value into a keyed hash (HMAC under the lookup key, see
app/crypto.py), so that limits, duplicate checks and erasure find "the same address"
without the address being stored anywhere in a form that can be read or guessed.
`scrub` removes addresses from text that must be kept, such as a mail server's reply.
"""

from __future__ import annotations

import re

import email_validator

from app import crypto

MAX_LENGTH = 254
"""Longest email address (the limit of the SMTP path, RFC 5321 with its errata)."""


def mail_address(value: str, *, check_deliverability: bool = False) -> str:
    """A deliverable form of an email address; raises email_validator.EmailNotValidError.

    Mail must get through any relay and any site's mail system: an internationalised
    domain is kept in its ASCII (punycode) form, and a local part that needs SMTPUTF8 is
    refused, since many servers would reject or mangle it.
    """
    result = email_validator.validate_email(
        value.strip(), check_deliverability=check_deliverability, allow_smtputf8=False
    )
    return result.ascii_email or result.normalized


def usable(value: object) -> str | None:
    """A published address (from a listing or a site) that can receive mail, normalised;
    None for anything else, so a typo in a registry record never reaches a mail server."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return mail_address(value)
    except email_validator.EmailNotValidError:
        return None


def identity(value: str) -> str:
    """The form in which addresses are compared: normalised, then case-folded.

    Never raises: text that is not an address (a mistyped login, say) is compared as
    typed, printable characters only, case-folded and cut to MAX_LENGTH.
    """
    try:
        return mail_address(value).casefold()
    except email_validator.EmailNotValidError:
        printable = "".join(ch for ch in value if ch.isprintable()).strip()
        return printable.casefold()[:MAX_LENGTH]


def lookup_key(text: str) -> str:
    """A 64-character keyed hash for finding equal values without storing them."""
    return crypto.lookup(text)


def address_key(value: str) -> str:
    """The lookup key of an email address (see the module docstring)."""
    return lookup_key(identity(value))


# Anything shaped like local@domain, including the <…> a mail server puts around it.
_ADDRESS_LIKE = re.compile(r"<?[^\s<>@\"(),;:]+@[^\s<>@\"(),;:]+>?")
SCRUBBED = "[address]"


def scrub(text: str) -> str:
    """The text with every email address in it replaced by "[address]"."""
    return _ADDRESS_LIKE.sub(SCRUBBED, text)
