"""The one Jinja environment: autoescaping, filters and globals shared by every page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from app.geo.places import GEONAMES_CREDIT
from app.languages import language_name
from app.masking import mask_email, mask_name, mask_phone
from app.phones import display_phone
from app.resources import TEMPLATE_DIR
from app.studies.markdown import to_html
from app.studies.rules import is_fictional

KM_PER_MILE = 1.609344

STATUS_LABELS = {
    "RECRUITING": "Recruiting",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "ENROLLING_BY_INVITATION": "Enrolling by invitation",
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "SUSPENDED": "Suspended",
    "TERMINATED": "Terminated",
    "COMPLETED": "Completed",
    "WITHDRAWN": "Withdrawn",
    "UNKNOWN": "Status unknown",
}
PHASE_LABELS = {"EARLY_PHASE1": "Early phase 1", "NA": "Not applicable"}
# Registry codes whose plain spelling is not just the words (study design, masking...).
CODE_LABELS = {
    "NA": "Not applicable",
    "NON_RANDOMIZED": "Non-randomized",
    "NONE": "None (open label)",
    "SINGLE": "Single-blind",
    "DOUBLE": "Double-blind",
    "TRIPLE": "Triple-blind",
    "QUADRUPLE": "Quadruple-blind",
    "SINGLE_GROUP": "Single group",
    "CARE_PROVIDER": "Care provider",
    "OUTCOMES_ASSESSOR": "Outcomes assessor",
    "ESTIMATED": "expected",
    "ACTUAL": "actual",
}


def distance_label(km: float) -> str:
    """ "12.3 km (7.6 miles)": patients in the US think in miles, most others in km."""
    # Miles from the rounded kilometres, so a distance reads the same wherever it is shown.
    km = round(km, 1)
    miles = km / KM_PER_MILE
    return f"{km:,.1f} km ({miles:,.1f} miles)"


def status_label(status: str | None) -> str:
    if not status:
        return "Status not given"
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def phase_label(phase: str) -> str:
    return PHASE_LABELS.get(phase, phase.replace("PHASE", "Phase "))


def code_label(value: str | None) -> str:
    """A registry code in words: "PARALLEL" -> "Parallel", "BASIC_SCIENCE" -> "Basic science"."""
    if not value:
        return ""
    return CODE_LABELS.get(value, value.replace("_", " ").capitalize())


def language_names(codes: list[str] | None) -> str:
    """ISO 639-1 codes in English words: ["es", "pt"] -> "Spanish, Portuguese"."""
    return ", ".join(name for code in codes or () if (name := language_name(code)))


def date_label(value: str | None) -> str:
    """API dates are "2025-03" or "2025-03-14"; show "March 2025" or "14 March 2025"."""
    if not value:
        return "not given"
    try:
        if len(value) == 7:
            return dt.date.fromisoformat(value + "-01").strftime("%B %Y")
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day.strftime('%B %Y')}"


def date_phrase(value: str | None) -> str:
    """ "in March 2025" for a month, "on 14 March 2025" for a day."""
    label = date_label(value)
    return f"in {label}" if value and len(value) == 7 else f"on {label}"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    env = templates.env
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    filters: dict[str, Any] = {
        "distance": distance_label,
        "status_label": status_label,
        "phase_label": phase_label,
        "date_label": date_label,
        "date_phrase": date_phrase,
        "code_label": code_label,
        "language_names": language_names,
        "markdown": to_html,
        "mask_email": mask_email,
        "mask_phone": mask_phone,
        "phone": display_phone,
    }
    env.filters.update(filters)
    env.globals["geonames_credit"] = GEONAMES_CREDIT
    env.globals["is_demo_study"] = is_fictional
    env.globals["mask_name"] = mask_name
    return templates


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A page from the app's templates (every public page is rendered through this)."""
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status_code
    )
    return response
