"""Phone numbers are shown in the international format, and anything else as typed."""

from __future__ import annotations

import pytest

from app.phones import display_phone


@pytest.mark.parametrize(
    ("value", "country", "shown"),
    [
        ("+16175550143", None, "+1 617-555-0143"),  # a patient's number, stored in E.164
        ("+33123456789", None, "+33 1 23 45 67 89"),
        ("617-555-0143", "United States", "+1 617-555-0143"),  # read in the site's country
        ("(617) 555-0143", "US", "+1 617-555-0143"),
        ("030 901820", "Germany", "+49 30 901820"),
        ("02-2072-2114", "Korea, Republic of", "+82 2-2072-2114"),
        ("617-555-0143 ext 12", "United States", "+1 617-555-0143 ext. 12"),
        ("+86 (0) 10 8888 1234", "United States", "+86 10 8888 1234"),  # its own country wins
    ],
)
def test_numbers_are_shown_in_the_international_format(
    value: str, country: str | None, shown: str
) -> None:
    assert display_phone(value, country) == shown


@pytest.mark.parametrize(
    ("value", "country"),
    [
        ("617-555-0143", None),  # no country to read it in: a guess could reach a stranger
        ("617-555-0143", "Atlantis"),
        ("Call the study desk", "United States"),
        ("000-000-0000", "United States"),
        ("613", "Canada"),
        ("+35928510866+3592851", "Bulgaria"),
    ],
)
def test_anything_else_is_shown_as_typed(value: str, country: str | None) -> None:
    assert display_phone(value, country) == value


def test_no_number_is_shown_as_nothing() -> None:
    assert display_phone(None) == ""
    assert display_phone("") == ""
