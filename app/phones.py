"""How phone numbers are shown to people: "+1 617-555-0143", on pages and in emails alike.

Numbers are stored as they came: a patient's in E.164 ("+16175550143"), a listing's as
its registry typed it. Only their display changes, here, through the `phone` filter of
both Jinja environments (pages in app/templating.py, emails in app/outbox/email/rendering.py).
"""

from __future__ import annotations

import phonenumbers

from app.geo.countries import country_code


def display_phone(value: str | None, country: str | None = None) -> str:
    """`value` in the international format of `phonenumbers` ("+1 617-555-0143").

    `country` (a name as listings write it, "Korea, Republic of", or an ISO code) is where
    a number written without its country code is read, as the contact form reads a
    patient's number by the site's country. Anything that is not then a valid number
    (free text, a number of another country, a placeholder such as "000-000-0000") is
    shown as typed: a guess could send a caller to a stranger.
    """
    if not value:
        return ""
    region = country_code(country) if country else None
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
