"""The contact form's rules: what a patient may send to a study team, and the lists behind it."""

from __future__ import annotations

from collections.abc import Mapping

import email_validator
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import languages
from app.contact.forms import (
    CONSENT_MESSAGE,
    CONTROL_MESSAGE,
    EMAIL_MESSAGE,
    EMAIL_MESSAGES,
    EMAIL_NO_AT_MESSAGE,
    EMAIL_UNDELIVERABLE_MESSAGE,
    FIELDS,
    HONEYPOT,
    HONEYPOT_MESSAGE,
    LANGUAGE_MESSAGE,
    MAX_FIELD,
    MAX_NAME,
    PHONE_COUNTRY_MESSAGE,
    PHONE_MESSAGE,
    SITE_MESSAGE,
    ContactSubmission,
    FormResult,
    email_message,
    validate_contact_form,
)
from app.geo.countries import country_code

US_SITE = 11
FRENCH_SITE = 12
UNKNOWN_REGION_SITE = 13
SITES = {US_SITE: "US", FRENCH_SITE: "FR", UNKNOWN_REGION_SITE: None}

VALID = {
    "first_name": "Maria",
    "last_name": "Lopez",
    "email": "Maria.Lopez@Example.COM",
    "phone": "(312) 555-2368",
    "language": "es",
    "site": str(US_SITE),
    "consent": "yes",
    "leave_empty": "",
}


def validate(data: Mapping[str, str]) -> FormResult:
    return validate_contact_form(data, allowed_site_ids=SITES.keys(), phone_region=SITES.get)


def with_(**changes: str) -> dict[str, str]:
    return {**VALID, **changes}


def without(*fields: str) -> dict[str, str]:
    return {key: value for key, value in VALID.items() if key not in fields}


def errors_for(**changes: str) -> dict[str, str]:
    result = validate(with_(**changes))
    assert result.submission is None
    return result.errors


# A valid form


def test_valid_form_is_cleaned_into_a_submission() -> None:
    result = validate(VALID)
    assert result.errors == {}
    assert result.submission == ContactSubmission(
        first_name="Maria",
        last_name="Lopez",
        email="Maria.Lopez@example.com",
        phone="+13125552368",
        language="es",
        site_id=US_SITE,
        consent=True,
    )


def test_values_keep_what_was_typed_trimmed_without_the_honeypot() -> None:
    result = validate(with_(first_name="  Maria  ", phone=" (312) 555-2368 ", leave_empty=""))
    assert result.values == {
        "first_name": "Maria",
        "last_name": "Lopez",
        "email": "Maria.Lopez@Example.COM",
        "phone": "(312) 555-2368",
        "language": "es",
        "site": str(US_SITE),
        "consent": "yes",
    }


def test_values_hold_every_field_even_when_absent_or_invalid() -> None:
    result = validate({"email": "not an email", "site": "x"})
    assert set(result.values) == set(FIELDS)
    assert result.values["email"] == "not an email"
    assert result.values["site"] == "x"
    assert result.values["first_name"] == ""


def test_unknown_fields_are_ignored() -> None:
    result = validate(with_(submit="Send", utm_source="mail"))
    assert result.errors == {}
    assert "submit" not in result.values


def test_language_is_optional() -> None:
    for data in (with_(language=""), without("language"), with_(language="   ")):
        result = validate(data)
        assert result.submission is not None
        assert result.submission.language is None


@pytest.mark.parametrize("consent", ["yes", "on", "true", "1", "YES", "On"])
def test_consent_values(consent: str) -> None:
    result = validate(with_(consent=consent))
    assert result.submission is not None
    assert result.submission.consent is True


# Names


@pytest.mark.parametrize(
    "name",
    ["José", "O'Brien", "O\u2019Brien", "Nguyễn", "李", "Anne-Marie", "J. R.", "Ελένη", "محمد"],
)
def test_names_in_any_script_are_accepted(name: str) -> None:
    result = validate(with_(first_name=name, last_name=name))
    assert result.submission is not None
    assert result.submission.first_name == name
    assert result.submission.last_name == name


def test_name_spaces_are_collapsed() -> None:
    result = validate(with_(first_name="  Mary \u00a0  Ann ", last_name="van\u3000der Berg"))
    assert result.submission is not None
    assert result.submission.first_name == "Mary Ann"
    assert result.submission.last_name == "van der Berg"


def test_decomposed_accents_are_stored_composed() -> None:
    result = validate(with_(first_name="Jose\u0301"))
    assert result.submission is not None
    assert result.submission.first_name == "José"


def test_zero_width_joiners_are_kept_in_names() -> None:
    result = validate(with_(first_name="\u0645\u06cc\u200c\u0631\u0627"))  # Persian, with ZWNJ
    assert result.submission is not None
    assert result.submission.first_name == "\u0645\u06cc\u200c\u0631\u0627"


@pytest.mark.parametrize(
    ("field", "label"), [("first_name", "first name"), ("last_name", "last name")]
)
def test_name_errors(field: str, label: str) -> None:
    assert errors_for(**{field: ""}) == {field: f"Enter your {label}."}
    assert errors_for(**{field: "   "}) == {field: f"Enter your {label}."}
    assert validate(without(field)).errors == {field: f"Enter your {label}."}
    assert errors_for(**{field: "-."}) == {field: f"Enter your {label}."}
    assert errors_for(**{field: "Maria2"}) == {field: f"Your {label} can't contain numbers."}
    assert errors_for(**{field: "Maria <b>"}) == {
        field: f"Your {label} can only contain letters, spaces, hyphens, apostrophes and periods."
    }
    assert errors_for(**{field: "Maria @"}) == {
        field: f"Your {label} can only contain letters, spaces, hyphens, apostrophes and periods."
    }
    too_long = {field: f"Please shorten your {label} to {MAX_NAME} characters or fewer."}
    assert errors_for(**{field: "a" * (MAX_NAME + 1)}) == too_long
    assert errors_for(**{field: "a" * (MAX_FIELD + 1)}) == too_long


def test_name_of_exactly_max_length_is_accepted() -> None:
    result = validate(with_(last_name="a" * MAX_NAME))
    assert result.submission is not None


def test_name_length_is_counted_after_collapsing_spaces() -> None:
    result = validate(with_(last_name="a" + " " * 20 + "b" * (MAX_NAME - 2)))
    assert result.submission is not None


# Email


def test_email_is_normalised() -> None:
    result = validate(with_(email="  someone@EXAMPLE.org "))
    assert result.submission is not None
    assert result.submission.email == "someone@example.org"


def test_an_internationalised_domain_is_kept_in_ascii_form() -> None:
    result = validate(with_(email="jose@Bücher.example"))
    assert result.submission is not None
    assert result.submission.email == "jose@xn--bcher-kva.example"


def test_a_local_part_that_needs_smtputf8_is_refused() -> None:
    """Many mail servers cannot carry it; the copy to the patient would fail."""
    result = validate(with_(email="josé@example.com"))
    assert result.submission is None
    assert "email" in result.errors


def test_email_errors() -> None:
    assert errors_for(email="") == {"email": "Enter your email address."}
    assert validate(without("email")).errors == {"email": "Enter your email address."}
    long_email = "a" * 64 + "@" + "b" * 190 + ".com"
    assert errors_for(email=long_email) == {
        "email": "Enter an email address of 254 characters or fewer."
    }


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("maria.example.com", EMAIL_NO_AT_MESSAGE),
        ("maria\uff20example.com", EMAIL_NO_AT_MESSAGE),  # a full-width at sign
        ("maria@@example.com", "it should have only one @"),
        ("@example.com", "your name or user name goes before the @"),
        ("maria@", "it needs a domain after the @"),
        ("maria@example", "it should be a domain that takes email, like example.com"),
        ("maria@localhost", "it should be a domain that takes email"),
        ("maria@example.invalid", "it should be a domain that takes email"),
        ("maria lopez@example.com", "it cannot contain spaces"),
        ("maria@exa mple.com", "it cannot contain spaces"),
        ("maria..lopez@example.com", "a dot cannot come first or last, next to the @, or twice"),
        ("maria@example.com.", "a dot cannot come first or last"),
        (".maria@example.com", "a dot cannot come first or last"),
        ("maria.@example.com", "a dot cannot come first or last, next to the @"),
        ("maria@-example.com", "a hyphen cannot come first or last"),
        ("jos\u00e9@example.com", "without accents or other special letters before the @"),
        ("Maria <maria@example.com>", "without a name or other text around it"),
        ("maria,lopez@example.com", "it can only have letters, numbers and . _ - + before the @"),
        ("maria@example,com", "letters, numbers, dots and hyphens after it"),
        ('"maria"@example.com', EMAIL_MESSAGE),
        ("maria@[192.0.2.1]", EMAIL_MESSAGE),
    ],
)
def test_email_errors_are_in_plain_words(email: str, message: str) -> None:
    said = errors_for(email=email)["email"]
    assert message in said
    assert said.startswith("Please")
    # Never the library's own wording.
    for jargon in ("@-sign", "period", "IDNA", "ASCII", "quot", "not permitted here"):
        assert jargon not in said, jargon


def test_every_message_is_plain() -> None:
    for _, message in EMAIL_MESSAGES:
        assert message.startswith(("Please", "This email address"))
        assert "@-sign" not in message
        assert "period" not in message


def test_an_address_that_cannot_receive_mail_is_said_plainly() -> None:
    error = email_validator.EmailUndeliverableError("The domain name example.com does not exist.")
    assert email_message(error) == EMAIL_UNDELIVERABLE_MESSAGE
    assert email_message(email_validator.EmailSyntaxError("Something new.")) == EMAIL_MESSAGE


# Phone


@pytest.mark.parametrize(
    ("phone", "site", "expected"),
    [
        ("(312) 555-2368", US_SITE, "+13125552368"),
        ("312.555.2368", US_SITE, "+13125552368"),
        ("+1 202-456-1111", US_SITE, "+12024561111"),
        ("+1 202-456-1111", UNKNOWN_REGION_SITE, "+12024561111"),
        ("+33 1 42 68 53 00", US_SITE, "+33142685300"),
        ("011 33 1 42 68 53 00", US_SITE, "+33142685300"),
        ("01 42 68 53 00", FRENCH_SITE, "+33142685300"),
        ("+44 20 7946 0000", FRENCH_SITE, "+442079460000"),
    ],
)
def test_phone_numbers_are_stored_in_e164(phone: str, site: int, expected: str) -> None:
    result = validate(with_(phone=phone, site=str(site)))
    assert result.errors == {}
    assert result.submission is not None
    assert result.submission.phone == expected


def test_phone_errors() -> None:
    assert errors_for(phone="") == {"phone": "Enter your phone number."}
    assert validate(without("phone")).errors == {"phone": "Enter your phone number."}
    assert errors_for(phone="555-2368")["phone"].startswith(PHONE_MESSAGE)
    assert errors_for(phone="12345")["phone"].startswith(PHONE_MESSAGE)
    assert errors_for(phone="call me")["phone"].startswith(PHONE_MESSAGE)
    assert errors_for(phone="+999 123 456 789")["phone"].startswith(PHONE_MESSAGE)
    assert errors_for(phone="1" * 60)["phone"].startswith(PHONE_MESSAGE)
    assert errors_for(phone="(312) 555-2368 ext. 12") == {
        "phone": "Enter a direct phone number, without an extension."
    }


def test_a_national_number_from_another_country_gets_a_hint_about_the_plus() -> None:
    """A US patient choosing a site abroad types their number without +1."""
    assert "start with + and your country code" in errors_for(phone="12345")["phone"]
    assert "start with +" not in errors_for(phone="+999 123 456 789")["phone"]


def test_national_number_needs_a_country_code_when_the_region_is_unknown() -> None:
    site = str(UNKNOWN_REGION_SITE)
    assert errors_for(phone="(312) 555-2368", site=site) == {"phone": PHONE_COUNTRY_MESSAGE}
    assert errors_for(phone="+999 555 2368", site=site) == {"phone": PHONE_MESSAGE}


def test_phone_region_is_not_asked_for_an_invalid_site() -> None:
    asked: list[int] = []

    def region(site_id: int) -> str | None:
        asked.append(site_id)
        return "US"

    result = validate_contact_form(
        with_(site="99"), allowed_site_ids={US_SITE}, phone_region=region
    )
    assert result.errors == {"site": SITE_MESSAGE}
    assert asked == []


def test_international_phone_is_still_checked_without_a_site() -> None:
    assert validate(with_(site="", phone="+1 555")).errors == {
        "phone": PHONE_MESSAGE,
        "site": SITE_MESSAGE,
    }


def test_phone_region_is_read_leniently() -> None:
    result = validate_contact_form(
        VALID, allowed_site_ids={US_SITE}, phone_region=lambda _site_id: " us "
    )
    assert result.submission is not None
    assert result.submission.phone == "+13125552368"


# Language, site, consent


@pytest.mark.parametrize("code", ["xx", "spanish", "eng", "es-MX", "1", "a" * (MAX_FIELD + 1)])
def test_language_must_come_from_the_list(code: str) -> None:
    assert errors_for(language=code) == {"language": LANGUAGE_MESSAGE}


def test_language_code_is_stored_lower_case() -> None:
    result = validate(with_(language="ZH"))
    assert result.submission is not None
    assert result.submission.language == "zh"


@pytest.mark.parametrize(
    "site", ["", "99", "x", "1.5", "-11", "+11", " 1 1", "1_1", "\u0661\u0661", "9" * 40]
)
def test_site_must_be_an_allowed_integer(site: str) -> None:
    errors = errors_for(site=site)
    assert errors["site"] == SITE_MESSAGE


def test_site_is_required() -> None:
    assert validate(without("site")).errors["site"] == SITE_MESSAGE


def test_site_id_is_parsed() -> None:
    result = validate(with_(site=f" {FRENCH_SITE} ", phone="+33 1 42 68 53 00"))
    assert result.submission is not None
    assert result.submission.site_id == FRENCH_SITE


@pytest.mark.parametrize("consent", ["", "no", "false", "0", "off", "yes please"])
def test_consent_is_required(consent: str) -> None:
    assert errors_for(consent=consent) == {"consent": CONSENT_MESSAGE}


def test_missing_consent() -> None:
    assert validate(without("consent")).errors == {"consent": CONSENT_MESSAGE}


# Line breaks and other invisible characters, in every field


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(
    "char",
    [
        "\r",
        "\n",
        "\r\n",
        "\x00",
        "\t",
        "\x1b",
        "\x7f",
        "\x85",
        "\u2028",
        "\u2029",
        "\u202e",
        "\ufeff",
    ],
)
def test_control_characters_are_refused_in_every_field(field: str, char: str) -> None:
    value = VALID[field]
    middle = len(value) // 2
    for tampered in (value[:middle] + char + value[middle:], value + char, char + value):
        result = validate(with_(**{field: tampered}))
        assert result.errors == {field: CONTROL_MESSAGE}, repr(tampered)
        assert result.submission is None


def test_header_injection_in_email_is_refused() -> None:
    errors = errors_for(email="maria@example.com\r\nBcc: everyone@example.com")
    assert errors == {"email": CONTROL_MESSAGE}


def test_lone_surrogate_is_refused() -> None:
    assert errors_for(last_name="Lo\ud800pez") == {"last_name": CONTROL_MESSAGE}


@pytest.mark.parametrize("field", FIELDS)
def test_huge_values_are_refused_and_cut_for_refilling(field: str) -> None:
    result = validate(with_(**{field: "a" * 100_000}))
    assert set(result.errors) == {field}
    assert result.values[field] == "a" * MAX_FIELD


# Several problems at once, and the honeypot


def test_every_problem_is_reported_at_once() -> None:
    result = validate(
        {
            "first_name": "",
            "last_name": "R2-D2",
            "email": "nobody",
            "phone": "+1 12",
            "language": "klingon",
            "site": "7",
            "leave_empty": "",
        }
    )
    assert result.submission is None
    assert list(result.errors) == list(FIELDS)


def test_filled_honeypot_says_plainly_what_to_do() -> None:
    result = validate(with_(leave_empty="https://spam.example"))
    assert result.submission is None
    assert result.errors == {"form": HONEYPOT_MESSAGE}
    assert HONEYPOT not in result.values
    message = result.errors["form"].lower()
    assert "press the send button again" in message
    assert "autofill" in message
    for word in ("honeypot", "bot", "spam", "later"):
        assert word not in message


def test_the_honeypot_has_no_name_browsers_autofill() -> None:
    # The autofill detail tokens of the HTML standard, and the names autofill heuristics
    # and password managers look for.
    autofill = ("name", "email", "tel", "phone", "url", "website", "address", "company",
                "organization", "city", "zip", "postal", "country", "user", "nickname")  # fmt: skip
    assert not any(word in HONEYPOT.lower() for word in autofill)
    assert HONEYPOT not in FIELDS


def test_honeypot_is_reported_with_other_errors() -> None:
    result = validate(with_(leave_empty="x", consent=""))
    assert set(result.errors) == {"form", "consent"}


def test_blank_honeypot_is_ignored() -> None:
    assert validate(with_(leave_empty="  ")).errors == {}


# Never raises


field_names = st.sampled_from([*FIELDS, HONEYPOT, "other"]) | st.text(max_size=10)
field_values = st.text() | st.sampled_from(list(VALID.values()))


@given(st.dictionaries(field_names, field_values))
def test_never_raises(data: dict[str, str]) -> None:
    result = validate(data)
    assert set(result.values) == set(FIELDS)
    assert (result.submission is None) == bool(result.errors)


@given(st.sampled_from(FIELDS), st.text())
def test_never_raises_on_one_changed_field(field: str, value: str) -> None:
    result = validate(with_(**{field: value}))
    assert (result.submission is None) == bool(result.errors)
    assert set(result.errors) <= {field}
    if result.submission is not None:
        assert result.submission.phone.startswith("+")
        for text in (result.submission.first_name, result.submission.email):
            assert "\n" not in text
            assert "\r" not in text


# Countries, for reading national phone numbers


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("United States", "US"),
        ("united states", "US"),
        ("USA", "US"),
        ("Korea, Republic of", "KR"),
        ("China", "CN"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("Iran, Islamic Republic of", "IR"),
        ("Russian Federation", "RU"),
        ("Taiwan", "TW"),
        ("Viet Nam", "VN"),
        ("Czech Republic", "CZ"),
        ("Côte D'Ivoire", "CI"),
        ("Macedonia, The Former Yugoslav Republic of", "MK"),
        ("Congo, The Democratic Republic of the", "CD"),
        ("United Kingdom", "GB"),
        ("  Germany ", "DE"),
        ("Kosovo", "XK"),
    ],
)
def test_country_code(country: str, region: str) -> None:
    assert country_code(country) == region


@pytest.mark.parametrize("country", [None, "", "Atlantis", "Europe"])
def test_region_for_unknown_country(country: str | None) -> None:
    assert country_code(country) is None


# Languages


def test_common_languages_are_also_in_the_full_list() -> None:
    assert set(languages.COMMON) <= set(languages.ALL)
    assert 10 <= len(languages.COMMON) <= 15
    assert {"es", "zh", "fr", "ar", "hi", "pt", "ru", "vi", "ko", "de", "tl", "it"} <= {
        language.code for language in languages.COMMON
    }


def test_all_languages_are_unique_iso_639_1_codes_sorted_by_name() -> None:
    codes = [language.code for language in languages.ALL]
    names = [language.name for language in languages.ALL]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))
    assert all(len(code) == 2 and code.isascii() and code.islower() for code in codes)
    assert names == sorted(names, key=str.casefold)
    assert len(languages.ALL) > 150


def test_language_names_are_plain() -> None:
    assert languages.language_name("es") == "Spanish"
    assert languages.language_name("zh") == "Chinese"
    assert languages.language_name("el") == "Greek"
    assert languages.language_name("pa") == "Punjabi"
    assert all("(" not in language.name or "Farsi" in language.name for language in languages.ALL)


def test_language_lookups() -> None:
    # "Preferred other language": the pages and emails are in English already.
    assert not languages.is_language("en")
    assert "English" not in [language.name for language in languages.ALL]
    assert languages.is_language("ES")
    assert not languages.is_language("")
    assert not languages.is_language("xx")
    assert not languages.is_language("spa")
    assert languages.language_name("xx") is None


def test_bracketed_country_names_are_recognised() -> None:
    assert country_code("Turkey (Türkiye)") == "TR"
