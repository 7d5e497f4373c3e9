"""Public HTML pages: home, search results, the study page and its contact entry point."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deps import DbSession
from app.geo.distance import haversine_km
from app.geo.places import Place, PlaceError, resolve_place
from app.params import whole_number
from app.studies.criteria import parse_criteria
from app.studies.models import Study
from app.studies.rules import DEFAULT_STATUSES, NCT_ID, NOT_YET_RECRUITING, OPEN_STATUSES
from app.studies.search import (
    MAX_PAGE,
    PlaceProblem,
    SearchParams,
    related_studies,
    resolve_origin,
    search_studies,
)
from app.studies.sites import count_sites, nearest_sites, site_countries, wanted_site
from app.templating import render

router = APIRouter(include_in_schema=False)  # pages, not API: kept out of /docs

FIELD_MESSAGES = {
    "condition": "Please use at most 200 characters.",
    "age": "Enter your age as a whole number of years, from 0 to 120.",
    "sex": "Choose female, male or any.",
    "location": "Please use at most 200 characters.",
    "lat": "The position from your device is not valid; type a city or ZIP code instead.",
    "lon": "The position from your device is not valid; type a city or ZIP code instead.",
    "radius_km": "Choose a distance between 1 and 20,000 km.",
    "page": "That page of results does not exist.",
    "page_size": "Choose between 1 and 100 results per page.",
}
RADIUS_CHOICES = (10, 25, 50, 100, 250, 500, 1000)
SITES_SHOWN = 10  # on the study page; the rest are one tap away on the sites page
SITES_PAGE_SIZE = 25


def query_dict(request: Request) -> dict[str, Any]:
    """Query parameters as SearchParams reads them: `status` may repeat, others may not."""
    data: dict[str, Any] = {k: v for k, v in request.query_params.items() if k != "status"}
    statuses = request.query_params.getlist("status")
    if statuses:
        data["status"] = statuses
    return data


def form_errors(exc: ValidationError) -> dict[str, str]:
    """One plain message per form field, for a patient rather than a programmer."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        if error["type"] == "value_error" and field != "form":
            # Our own validators already speak to patients.
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        elif field in FIELD_MESSAGES:
            message = FIELD_MESSAGES[field]
        else:
            field, message = "location", "Type a city or ZIP code, or use your device's location."
        errors.setdefault(field, message)
    return errors


def location_query(request: Request) -> str:
    """The patient's place, to carry from page to page (`?location=…` or lat/lon)."""
    keep = {
        k: request.query_params[k]
        for k in ("location", "lat", "lon")
        if request.query_params.get(k)
    }
    return urlencode(keep)


@router.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
def home(request: Request) -> Response:
    return render(request, "studies/home.html", {"form": {}, "errors": {}, "radii": RADIUS_CHOICES})


@router.get("/studies", response_class=HTMLResponse)
def results(request: Request, session: DbSession) -> Response:
    raw = query_dict(request)
    raw.setdefault("page_size", request.app.state.settings.page_size)
    # A page number past the highest the search allows is past the end all the same: it
    # is sent to the last page below, like any other, rather than refused.
    page = whole_number(raw.get("page"), maximum=10**18)
    if page is not None and page > MAX_PAGE:
        raw["page"] = MAX_PAGE
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    context: dict[str, Any] = {
        "form": form,
        "errors": {},
        "radii": RADIUS_CHOICES,
        "result": None,
        # The statuses as asked, kept by the form when it is sent again (a bad one too,
        # with its error, so that nothing chosen is lost).
        "statuses": _asked_statuses(raw.get("status")),
    }
    try:
        params = SearchParams.model_validate(raw)
    except ValidationError as exc:
        # Say everything that is wrong at once, the place included.
        errors = form_errors(exc)
        location = form.get("location", "").strip()
        if location and "location" not in errors:
            try:
                resolve_place(location)
            except PlaceError as place_error:
                problem = PlaceProblem.of(place_error)
                errors[problem.field] = problem.message
                context["place_options"] = problem.options
        context["errors"] = errors
        return render(request, "studies/results.html", context, status_code=422)
    context["params"] = params
    try:
        origin = resolve_origin(params)
    except PlaceError as exc:
        problem = PlaceProblem.of(exc)
        context["errors"] = {problem.field: problem.message}
        context["place_options"] = problem.options
        return render(request, "studies/results.html", context, status_code=422)
    result = search_studies(session, params, origin=origin)
    if params.page > result.pages:
        # An old link, or results that have shrunk since: show the last page there is.
        return RedirectResponse(_with_page(request, result.pages), status_code=303)
    context.update(result=result, origin=origin, place_query=_place_query(params, origin))
    # "Email me new studies like these": the alert sign-up, filled in with this search.
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "page_size")]
    context["alert_query"] = urlencode([*kept, ("from", "results")])
    context["statuses"] = params.status
    if result.total == 0 and NOT_YET_RECRUITING not in params.status:
        # Would studies that open soon give results? Then the empty state says so.
        wider = params.model_copy(update={"status": [*params.status, NOT_YET_RECRUITING]})
        soon = search_studies(session, wider, origin=origin).total
        if soon:
            context["open_soon"] = (soon, _with_statuses(request, wider.status))
    return render(request, "studies/results.html", context)


def _with_statuses(request: Request, statuses: list[str]) -> str:
    """This search's URL with these statuses, from its first page."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "status")]
    return f"{request.url.path}?{urlencode([*query, *(('status', s) for s in statuses)])}"


def _asked_statuses(values: list[str] | None) -> list[str]:
    parts = [p.strip().upper() for value in values or () for p in value.split(",")]
    return list(dict.fromkeys(p for p in parts if p)) or list(DEFAULT_STATUSES)


def _with_page(request: Request, page: int) -> str:
    """This page's URL at another page of results, every other parameter kept as given."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    return f"{request.url.path}?{urlencode([*query, ('page', str(page))])}"


def _place_query(params: SearchParams, origin: Place | None) -> str:
    if origin is None:
        return ""
    if params.location:
        return urlencode({"location": params.location})
    return urlencode({"lat": params.lat, "lon": params.lon})


def _month_or_day(value: str) -> dt.date | None:
    """API dates are "2025-03" or "2025-03-14"; a month counts as its first day."""
    try:
        return dt.date.fromisoformat(value if len(value) > 7 else value + "-01")
    except ValueError:
        return None


@dataclass(frozen=True)
class Staleness:
    """Why a listing that says it is open looks out of date (both may hold)."""

    last_updated: str | None = None  # the date, when over a year ago
    completion: str | None = None  # the expected completion date, when it has passed

    def __bool__(self) -> bool:
        return bool(self.last_updated or self.completion)


def staleness(study: Study, today: dt.date) -> Staleness:
    """A recruiting-looking listing not updated for a year, or past its completion date."""
    if study.overall_status not in OPEN_STATUSES:
        return Staleness()
    updated = _month_or_day(study.last_updated) if study.last_updated else None
    old_update = study.last_updated if updated and (today - updated).days > 365 else None
    ends = _month_or_day(study.completion_date) if study.completion_date else None
    ended = False
    if ends is not None:
        # A month-only completion date is past only once that whole month is over.
        if len(study.completion_date or "") == 7:
            ended = (ends.year, ends.month) < (today.year, today.month)
        else:
            ended = ends < today
    return Staleness(old_update, study.completion_date if ended else None)


NO_UPPER_AGE_YEARS = 100
"""Registries write "99 Years", "100 Years" or "130 Years" for "no upper limit"."""


def age_range_label(study: Study) -> str:
    low, high = study.min_age, study.max_age
    if high and study.max_age_years is not None and study.max_age_years >= NO_UPPER_AGE_YEARS:
        high = None
    if low and high:
        return f"{low} to {high}".lower()
    if low:
        return f"{low} and older".lower()
    if high:
        return f"up to {high}".lower()
    return "any age"


def sex_label(sex: str) -> str:
    return {"FEMALE": "Female participants only", "MALE": "Male participants only"}.get(
        sex, "All sexes"
    )


class StudyNotFound(HTTPException):
    """No study has this NCT ID: the 404 page names the ID the patient asked for."""

    def __init__(self, nct_id: str) -> None:
        super().__init__(status_code=404)
        self.nct_id = nct_id


def study_or_404(session: Session, nct_id: str) -> Study:
    study = load_study(session, nct_id)
    if study is None:
        raise StudyNotFound(nct_id)
    return study


def load_study(session: Session, nct_id: str) -> Study | None:
    """The study with this NCT ID, or None; an ID of the wrong shape is not looked up."""
    if not NCT_ID.match(nct_id.upper()):
        return None
    # Not its sites: a study may list thousands; pages ask `app.studies.sites` for a few.
    return session.scalar(select(Study).where(Study.nct_id == nct_id.upper()))


def origin_or_none(request: Request) -> tuple[Place | None, str | None]:
    """The carried place for ordering sites; a bad one is shown as a note, not an error."""
    try:
        params = SearchParams.model_validate(
            {k: request.query_params.get(k) for k in ("location", "lat", "lon")}
        )
        return resolve_origin(params), None
    except ValidationError:
        return (
            None,
            "We could not use the position given, so sites are listed in their published order.",
        )
    except PlaceError as exc:
        return None, str(exc)


@router.get("/studies/{nct_id}", response_class=HTMLResponse)
def study_page(request: Request, nct_id: str, session: DbSession) -> Response:
    study = study_or_404(session, nct_id)
    origin, place_note = origin_or_none(request)
    total_sites = count_sites(session, study)
    can_contact = study.takes_contacts and (
        count_sites(session, study, contactable=True) > 0
        or study.reaches_study_team(lists_sites=total_sites > 0)
    )
    place_query = location_query(request) if origin else ""
    context = {
        "study": study,
        "criteria": parse_criteria(study.eligibility_criteria),
        "sites": nearest_sites(session, study, origin=origin, limit=SITES_SHOWN),
        "total_sites": total_sites,
        "all_sites_url": _sites_url(request, study, place_query),
        "origin": origin,
        "place_note": place_note,
        "place_query": place_query,
        "stale": staleness(study, dt.datetime.now(dt.UTC).date()),
        "can_contact": can_contact,
        "age_range": age_range_label(study),
        "sex_label": sex_label(study.sex),
        "related": related_studies(session, study, origin=origin),
    }
    return render(request, "studies/study.html", context)


def _sites_url(request: Request, study: Study, place_query: str, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    query = "&".join(q for q in (query, place_query) if q)
    path = request.url_for("study_sites", nct_id=study.nct_id).path
    return f"{path}?{query}" if query else path


@router.get("/studies/{nct_id}/sites", response_class=HTMLResponse)
def study_sites(request: Request, nct_id: str, session: DbSession) -> Response:
    """Every site of a study, a page at a time, nearest first, filterable by country."""
    study = study_or_404(session, nct_id)
    origin, place_note = origin_or_none(request)
    open_only = request.query_params.get("open") == "1" and study.takes_contacts
    countries = site_countries(session, study, contactable=open_only)
    country = request.query_params.get("country", "")
    if country not in {name for name, _ in countries}:
        country = ""
    total = count_sites(session, study, contactable=open_only, country=country or None)
    pages = max(1, -(-total // SITES_PAGE_SIZE))
    page = whole_number(request.query_params.get("page", "1"), maximum=pages) or 0
    if not 1 <= page <= pages:
        return render(request, "errors/404.html", {}, status_code=404)
    place_query = location_query(request) if origin else ""
    sites = nearest_sites(
        session,
        study,
        origin=origin,
        limit=SITES_PAGE_SIZE,
        offset=(page - 1) * SITES_PAGE_SIZE,
        contactable=open_only,
        country=country or None,
    )
    carried = {k: request.query_params.get(k, "") for k in ("location", "lat", "lon") if origin}
    filters = {"open": "1" if open_only else "", "country": country, **carried}
    context = {
        "study": study,
        "sites": sites,
        "countries": countries,
        "country": country,
        "open_only": open_only,
        "total": total,
        "page": page,
        "pages": pages,
        "filters": {k: v for k, v in filters.items() if v},
        "origin": origin,
        "place_note": place_note,
        "place_query": place_query,
    }
    return render(request, "studies/sites.html", context)


@router.get("/studies/{nct_id}/summary", response_class=HTMLResponse)
def study_summary(request: Request, nct_id: str, session: DbSession) -> Response:
    """A printable summary to take to one's doctor: who can join, the site, questions."""
    study = study_or_404(session, nct_id)
    origin, _ = origin_or_none(request)
    site = wanted_site(session, study, request.query_params.get("site"))
    if site is None:
        nearest = nearest_sites(session, study, origin=origin, limit=1, contactable=True)
        site = nearest[0][0] if nearest else None
    km = None
    if site is not None and origin is not None and site.lat is not None and site.lon is not None:
        km = haversine_km(origin.lat, origin.lon, site.lat, site.lon)
    context = {
        "study": study,
        "criteria": parse_criteria(study.eligibility_criteria),
        "age_range": age_range_label(study),
        "sex_label": sex_label(study.sex),
        "site": site,
        "km": km,
        "origin": origin,
        "contact": study.contact_for(site) if site else None,
        "contact_country": study.contact_country(site),
        "place_query": location_query(request) if origin else "",
        "today": dt.datetime.now(dt.UTC).date().strftime("%d %B %Y").lstrip("0"),
    }
    return render(request, "studies/summary.html", context)


@router.get("/learn", response_class=HTMLResponse)
def learn(request: Request) -> Response:
    return render(request, "help/learn.html", {})
