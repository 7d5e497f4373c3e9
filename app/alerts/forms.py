"""Validation of the alert sign-up form: the contact form's rules for the address, the
honeypot and the consent, and the search form's rules for the search.

`validate_alert_form` never raises: a malformed request is a form with errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from app.alerts.consent import PAGES
from app.alerts.searches import AlertSearch
from app.contact.forms import (
    CONSENT_VALUES,
    CONTROL_MESSAGE,
    HONEYPOT,
    HONEYPOT_MESSAGE,
    MAX_FIELD,
    Problem,
    clean_email,
    has_control,
)
from app.geo.places import PlaceError
from app.studies.search import PlaceProblem, SearchParams, resolve_origin
from app.studies.views import form_errors

FIELDS = ("email", "condition", "age", "sex", "location", "lat", "lon", "radius_km", "consent")
"""The form's text fields, in page order; `status` may come several times."""
CONDITION_MESSAGE = 'Enter a condition or disease, for example "asthma".'
CONSENT_MESSAGE = "Please confirm that we may email you about new studies."


@dataclass(frozen=True)
class AlertSignup:
    email: str
    search: AlertSearch
    page: str  # where the patient signed up (consent.PAGES)


@dataclass
class AlertForm:
    values: dict[str, str]
    statuses: list[str]
    errors: dict[str, str]
    signup: AlertSignup | None


def _text(data: Mapping[str, str], field: str) -> str:
    value = data.get(field)
    return value if isinstance(value, str) else ""  # a file where text belongs: absent


def validate_alert_form(
    data: Mapping[str, str],
    statuses: list[str],
    *,
    check_deliverability: bool = False,
) -> AlertForm:
    """Check the posted sign-up (`statuses`: every `status` value sent) into an AlertSignup."""
    raw = {field: _text(data, field) for field in FIELDS}
    values = {field: value.strip()[:MAX_FIELD] for field, value in raw.items()}
    errors: dict[str, str] = {}
    for field, value in raw.items():
        if len(value) > MAX_FIELD or has_control(value):
            errors[field] = CONTROL_MESSAGE
    email: str | None = None
    if "email" not in errors:
        cleaned = clean_email(values["email"], check_deliverability)
        if isinstance(cleaned, Problem):
            errors["email"] = cleaned.message
        else:
            email = cleaned
    search: AlertSearch | None = None
    # Blank means "not given", as on the search form.
    search_fields = {k: values[k] for k in FIELDS if k not in ("email", "consent") and values[k]}
    if not values["condition"] and "condition" not in errors:
        errors["condition"] = CONDITION_MESSAGE
    try:
        params = SearchParams.model_validate({**search_fields, "status": statuses or None})
    except ValidationError as exc:
        for field, message in form_errors(exc).items():
            errors.setdefault(field if field in FIELDS else "form", message)
    else:
        try:
            origin = resolve_origin(params)
        except PlaceError as exc:
            problem = PlaceProblem.of(exc)
            errors.setdefault(problem.field, problem.message)
        else:
            if params.condition:
                search = AlertSearch.of(params, origin)
    if values["consent"].lower() not in CONSENT_VALUES and "consent" not in errors:
        errors["consent"] = CONSENT_MESSAGE
    if _text(data, HONEYPOT).strip():
        errors["form"] = HONEYPOT_MESSAGE
    errors = {key: errors[key] for key in ("form", *FIELDS) if key in errors}
    page = _text(data, "from")
    signup = None
    if not errors and email is not None and search is not None:
        signup = AlertSignup(email=email, search=search, page=page if page in PAGES else "alerts")
    return AlertForm(values=values, statuses=statuses, errors=errors, signup=signup)
