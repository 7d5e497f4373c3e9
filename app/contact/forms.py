"""Validation of the patient contact form ("Get in touch with the nearest study center").

This module owns the rules for what a patient may send to a study team: their name,
email address, phone number, optionally a preferred language, the study site they
chose and their consent to share these details. `validate_contact_form` turns the raw
form fields into a clean `ContactSubmission` (email normalised by `email-validator`,
phone in E.164 via `phonenumbers`) or into one plain-English message per field,
written to be shown to the patient as is, together with what they typed so the page
can fill the form in again.

The details end up in emails and in the study team's systems, so no field may carry a
line break or any other control or invisible formatting character (a header injection
or a spoofed name must not get through), and every field is length-capped before any
parsing. The function never raises, whatever it is given: a malformed request is just
a form with errors.

`app.geo.countries.country_code` gives a site's region, used to read phone numbers
written without their country code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TypeVar

import email_validator
import phonenumbers

from app.addresses import MAX_LENGTH, mail_address
from app.languages import is_language

MAX_NAME = 100
"""Longest first or last name, in characters, after spaces are tidied."""

MAX_EMAIL = MAX_LENGTH
"""Longest email address (the limit of the SMTP path, RFC 5321 with its errata)."""

MAX_PHONE = 50
"""Longest phone number as typed, spaces, brackets and dashes included."""

MAX_FIELD = 1000
"""Longest value of any field; longer values are refused and cut to this for re-filling."""

FIELDS = ("first_name", "last_name", "email", "phone", "language", "site", "consent")
"""The form's fields, in page order; these are the keys of `FormResult.values`."""

HONEYPOT = "leave_empty"
"""A field hidden from people, from their browsers' autofill and from password managers:
only bots fill it in. Its name is no autofill keyword ("website", "url", "company", ...),
so that no browser fills it in for a person (see templates/contact/form.html)."""

CONTROL_MESSAGE = "Please remove line breaks or special characters."
HONEYPOT_MESSAGE = (
    "We have not sent your request yet: a hidden box of this form was filled in, perhaps by "
    "your browser's autofill. Your answers are kept below. Please check them and press the "
    "send button again."
)
"""Said when the honeypot was filled. A person it catches is not stuck: the form comes
back with the hidden box empty, so sending again goes through."""
EMAIL_MESSAGE = "Please check the email address: it should look like name@example.com."
"""Said when nothing more precise fits; see `EMAIL_MESSAGES`."""
EMAIL_NO_AT_MESSAGE = (
    "Please check the email address: it needs an @ and a domain, like name@example.com."
)
PHONE_MESSAGE = "Enter a phone number we can call, including the area code."
PHONE_ABROAD_MESSAGE = (
    "If your number is from another country than the study site, start with + and "
    "your country code, for example +1 for the United States."
)
PHONE_COUNTRY_MESSAGE = "Include your country code, for example +44 20 7946 0000."
LANGUAGE_MESSAGE = "Choose a language from the list."
SITE_MESSAGE = "Choose a study site from the list."
CONSENT_MESSAGE = "Please confirm that we may share your details with the study team."

_LABELS = {"first_name": "first name", "last_name": "last name"}
CONSENT_VALUES = frozenset({"yes", "on", "true", "1"})
_SITE_ID = re.compile(r"[0-9]{1,18}", re.ASCII)
# Punctuation that belongs in names: hyphen, apostrophes (typewriter and typographic)
# and the period of an initial ("J. R."). Letters and combining marks of every script
# are allowed besides; see `_clean_name`.
_NAME_PUNCTUATION = frozenset(" -'\u2019.")
# Zero-width non-joiner and joiner: format characters (category Cf) that are part of
# the correct spelling of many Persian, Indic and Sinhala names.
_NAME_JOINERS = frozenset("\u200c\u200d")
_NAME_SYMBOLS = _NAME_PUNCTUATION | _NAME_JOINERS
# What to tell a patient for each of email-validator's reasons, which are written for
# programmers ("The part after the @-sign is not valid. It should have a period."). The
# library gives no codes, so its English messages are matched (lower-cased, first match
# wins); a reason not listed, or one a new version words differently, gets EMAIL_MESSAGE.
EMAIL_MESSAGES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("must have an @-sign", "at-sign (@) character instead", "small commercial at"),
     EMAIL_NO_AT_MESSAGE),
    (("invalid characters: '@'",), "Please check the email address: it should have only one @."),
    (("something before the @-sign",),
     "Please check the email address: your name or user name goes before the @, "
     "like name@example.com."),
    (("something after the @-sign",),
     "Please check the email address: it needs a domain after the @, like name@example.com."),
    (("should have a period", "top-level domain", "special-use or reserved"),
     "Please check the part after the @: it should be a domain that takes email, like "
     "example.com."),
    (("space",), "Please check the email address: it cannot contain spaces."),
    (("hyphen", "two dashes"),
     "Please check the part after the @: a hyphen cannot come first or last, or next to a "
     "dot."),
    (("period",),
     "Please check the dots in the email address: a dot cannot come first or last, next to "
     "the @, or twice in a row."),
    (("internationalized characters before the @-sign",),
     "Please use an email address without accents or other special letters before the @: "
     "not every mail system can deliver to one."),
    (("display name", "angle bracket", "anything after the email address"),
     "Please type only the email address, like name@example.com, without a name or other "
     "text around it."),
    (("too long",), "This email address is too long. Please check it."),
    (("invalid character",),
     "Please check the email address: it can only have letters, numbers and . _ - + before "
     "the @, and letters, numbers, dots and hyphens after it."),
    (("the part after the @-sign",),
     "Please check the part after the @: it should be a domain like example.com."),
)  # fmt: skip
EMAIL_UNDELIVERABLE_MESSAGE = (
    "Please check the part after the @: no email can be delivered to that domain."
)
# How email-validator starts the message when the DNS look-up itself failed.
_DNS_FAILURE = "There was an error while checking"

_T = TypeVar("_T")


@dataclass(frozen=True)
class Problem:
    """Why a field's value was refused: the message for the patient."""

    message: str


@dataclass(frozen=True)
class ContactSubmission:
    """A valid contact request, cleaned and ready to store."""

    first_name: str
    last_name: str
    email: str
    """Normalised by email-validator (domain lower-cased; may be internationalised)."""
    phone: str
    """E.164, e.g. "+13125550147"."""
    language: str | None
    """ISO 639-1 code of the preferred other language, or None."""
    site_id: int
    consent: bool
    """Always True: there is no submission without consent."""


@dataclass
class FormResult:
    """The outcome of `validate_contact_form`."""

    values: dict[str, str]
    """What the patient entered, trimmed, for every field in `FIELDS` ("" when absent)."""
    errors: dict[str, str]
    """Field name (or "form") -> one message for the patient; empty when valid."""
    submission: ContactSubmission | None
    """Set exactly when `errors` is empty."""


def validate_contact_form(
    data: Mapping[str, str],
    *,
    allowed_site_ids: Collection[int],
    phone_region: Callable[[int], str | None],
    check_deliverability: bool = False,
) -> FormResult:
    """Check the contact form `data` and clean it into a `ContactSubmission`.

    `allowed_site_ids` are the sites the patient could choose from; `phone_region`
    gives a site's ISO 3166 alpha-2 region (e.g. "US"), used to read a phone number
    written without its country code, or None when unknown. `check_deliverability`
    makes email-validator look the email domain up in DNS. Unknown fields are ignored.
    A filled-in honeypot field (`HONEYPOT`) gives `HONEYPOT_MESSAGE` under "form": the
    request is not sent, and a person whose browser filled it can send again. Never
    raises for any `data`.
    """
    raw = {field: _raw(data, field) for field in FIELDS}
    values = {field: value.strip()[:MAX_FIELD] for field, value in raw.items()}
    errors: dict[str, str] = {}

    # Every field, whatever its kind, is refused outright when huge or when it holds a
    # line break or another control or formatting character, before any parsing.
    for field in FIELDS:
        if len(raw[field]) > MAX_FIELD:
            errors[field] = _too_long_message(field)
        elif has_control(raw[field], allow_joiners=field in _LABELS):
            errors[field] = CONTROL_MESSAGE

    def check(field: str, clean: Callable[[str], _T | Problem]) -> _T | None:
        if field in errors:
            return None
        result = clean(values[field])
        if isinstance(result, Problem):
            errors[field] = result.message
            return None
        return result

    first_name = check("first_name", lambda value: _clean_name(value, "first_name"))
    last_name = check("last_name", lambda value: _clean_name(value, "last_name"))
    email = check("email", lambda value: clean_email(value, check_deliverability))
    site_id = check("site", lambda value: _clean_site(value, allowed_site_ids))
    region = phone_region(site_id) if site_id is not None else None
    phone = check("phone", lambda value: _clean_phone(value, region))
    if site_id is None and errors.get("phone") == PHONE_COUNTRY_MESSAGE:
        # The number may be fine once a site gives its region: the site error is enough.
        del errors["phone"]
    language = check("language", _clean_language)
    consent = check("consent", _clean_consent)
    if _raw(data, HONEYPOT).strip():
        errors["form"] = HONEYPOT_MESSAGE

    errors = {key: errors[key] for key in ("form", *FIELDS) if key in errors}
    if (
        errors
        or first_name is None
        or last_name is None
        or email is None
        or phone is None
        or site_id is None
        or consent is None
    ):
        # Without errors every required value is set: the None tests only narrow types.
        return FormResult(values=values, errors=errors, submission=None)
    submission = ContactSubmission(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        language=language or None,
        site_id=site_id,
        consent=consent,
    )
    return FormResult(values=values, errors={}, submission=submission)


def _raw(data: Mapping[str, str], field: str) -> str:
    value = data.get(field)
    # A multipart request can carry a file where text is expected: treat it as absent.
    return value if isinstance(value, str) else ""


def _too_long_message(field: str) -> str:
    if field in _LABELS:
        return f"Please shorten your {_LABELS[field]} to {MAX_NAME} characters or fewer."
    return {
        "email": f"Enter an email address of {MAX_EMAIL} characters or fewer.",
        "phone": PHONE_MESSAGE,
        "language": LANGUAGE_MESSAGE,
        "site": SITE_MESSAGE,
        "consent": CONSENT_MESSAGE,
    }[field]


# "evil.com", "www.x": two letters or more on both sides of a dot. Initials ("J.R.")
# and "St. John" have at most one letter before the dot or a space after it.
_WEB_ADDRESS = re.compile(r"[^\W\d_]{2,}\.[^\W\d_]{2,}|www\.", re.IGNORECASE)


def has_control(value: str, *, allow_joiners: bool = False) -> bool:
    """True when `value` holds a control, format, surrogate, private-use or unassigned
    character (Unicode category C*) or a line or paragraph separator (Zl, Zp)."""
    for char in value:
        category = unicodedata.category(char)
        if category[0] == "C" or category in ("Zl", "Zp"):
            if allow_joiners and char in _NAME_JOINERS:
                continue
            return True
    return False


def _clean_name(value: str, field: str) -> str | Problem:
    label = _LABELS[field]
    name = unicodedata.normalize("NFC", " ".join(value.split()))
    if not name:
        return Problem(f"Enter your {label}.")
    if len(name) > MAX_NAME:
        return Problem(f"Please shorten your {label} to {MAX_NAME} characters or fewer.")
    categories = [unicodedata.category(char) for char in name]
    if any(category[0] == "N" for category in categories):
        return Problem(f"Your {label} can't contain numbers.")
    for char, category in zip(name, categories, strict=True):
        if category[0] not in "LM" and char not in _NAME_SYMBOLS:
            return Problem(
                f"Your {label} can only contain letters, spaces, hyphens, apostrophes and periods."
            )
    if not any(category[0] == "L" for category in categories):
        return Problem(f"Enter your {label}.")
    if _WEB_ADDRESS.search(name):
        # Names go into an email to the patient's address: no room for advertising links.
        return Problem(f"Your {label} looks like a web address. Please type just your name.")
    return name


def clean_email(value: str, check_deliverability: bool) -> str | Problem:
    """The address normalised by email-validator, or the Problem to tell the patient."""
    if not value:
        return Problem("Enter your email address.")
    if len(value) > MAX_EMAIL:
        return Problem(_too_long_message("email"))
    try:
        try:
            return mail_address(value, check_deliverability=check_deliverability)
        except email_validator.EmailUndeliverableError as error:
            if not str(error).startswith(_DNS_FAILURE):
                raise
            # Our own look-up failed, which says nothing about the patient's address.
            return mail_address(value, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        return Problem(email_message(error))


def email_message(error: email_validator.EmailNotValidError) -> str:
    """What to tell a patient about email-validator's `error`, in plain words."""
    if isinstance(error, email_validator.EmailUndeliverableError):
        return EMAIL_UNDELIVERABLE_MESSAGE
    reason = str(error).lower()
    for fragments, message in EMAIL_MESSAGES:
        if any(fragment in reason for fragment in fragments):
            return message
    return EMAIL_MESSAGE


def _clean_phone(value: str, region: str | None) -> str | Problem:
    if not value:
        return Problem("Enter your phone number.")
    if len(value) > MAX_PHONE:
        return Problem(PHONE_MESSAGE)
    region = region.strip().upper() if region else None
    known_region = region in phonenumbers.SUPPORTED_REGIONS
    try:
        number = phonenumbers.parse(value, region if known_region else None)
    except phonenumbers.NumberParseException as error:
        no_plus = "+" not in value and "\uff0b" not in value  # ASCII or full-width plus
        if (
            error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
            and not known_region
            and no_plus
        ):
            return Problem(PHONE_COUNTRY_MESSAGE)
        return Problem(PHONE_MESSAGE)
    if not phonenumbers.is_valid_number(number):
        if known_region and "+" not in value:
            # Perhaps a number from another country than the site's: say how to write it.
            return Problem(f"{PHONE_MESSAGE} {PHONE_ABROAD_MESSAGE}")
        return Problem(PHONE_MESSAGE)
    if number.extension:
        # E.164 has no room for an extension, and a call must reach the patient.
        return Problem("Enter a direct phone number, without an extension.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean_site(value: str, allowed_site_ids: Collection[int]) -> int | Problem:
    if not _SITE_ID.fullmatch(value):
        return Problem(SITE_MESSAGE)
    site_id = int(value)
    if site_id not in allowed_site_ids:
        return Problem(SITE_MESSAGE)
    return site_id


def _clean_language(value: str) -> str | Problem:
    """The ISO 639-1 code, lower-cased, or "" when the patient chose none."""
    if not value:
        return ""
    if not is_language(value):
        return Problem(LANGUAGE_MESSAGE)
    return value.lower()


def _clean_consent(value: str) -> bool | Problem:
    if value.lower() not in CONSENT_VALUES:
        return Problem(CONSENT_MESSAGE)
    return True
