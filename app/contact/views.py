"""The contact flow, "Get in touch with the nearest study center": form, submission,
confirmation."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import csrf, ratelimit
from app.contact.consent import CONSENT_VERSION, wording
from app.contact.forms import CONSENT_VALUES, HONEYPOT, validate_contact_form
from app.contact.models import ContactRequest
from app.contact.service import (
    PUBLIC_ID,
    RATE_LIMIT_MESSAGE,
    prepare_contact_request,
    site_label,
    store_contact_request,
)
from app.db import DATABASE_UNAVAILABLE, release, write_transaction
from app.deps import DbSession
from app.errors import RETRY_AFTER_SECONDS
from app.geo.countries import country_code
from app.geo.distance import haversine_km
from app.geo.places import Place
from app.languages import ALL as ALL_LANGUAGES
from app.languages import COMMON as COMMON_LANGUAGES
from app.languages import is_language
from app.studies.checklist import Answered, answered, checklist, read_answers
from app.studies.models import Site, Study
from app.studies.rules import NOT_YET_RECRUITING
from app.studies.search import related_studies
from app.studies.sites import count_sites, nearest_sites, wanted_site
from app.studies.views import location_query, origin_or_none, study_or_404
from app.templating import render

router = APIRouter(include_in_schema=False)  # pages, not API: kept out of /docs
log = logging.getLogger("trialfinder.contact")
NEAREST_SHOWN = 10
STUDY_TEAM_OPTION = 0  # the `site` value that means "the study team" (no sites listed)
UNAVAILABLE_MESSAGE = (
    "We could not send your request just now: our database did not answer. Nothing was "
    "sent. Your answers are kept: please press the button again in a minute."
)

Option = tuple[Site | None, float | None]


@dataclass(frozen=True)
class Carried:
    """Checklist answers brought from the notes page (hidden fields of the form), whether
    the patient ticked the box that sends them to the site, and the answered lines as the
    site's email words them (worked out once, from the criteria as they are now)."""

    answers: dict[int, str]
    include: bool
    lines: tuple[Answered, ...]

    @classmethod
    def of(cls, study: Study, data: dict[str, str]) -> Carried | None:
        if not any(name.startswith("answer-") for name in data):
            return None
        sheet = checklist(study)
        answers = read_answers(data, sheet)
        include = data.get("include_answers", "").strip().lower() in CONSENT_VALUES
        return cls(answers, include, answered(sheet, answers)) if answers else None

    @property
    def for_site(self) -> tuple[Answered, ...]:
        """What goes into the site's email: nothing unless the box was ticked."""
        return self.lines if self.include else ()


@dataclass(frozen=True)
class SiteChoices:
    """The sites offered on the form: the nearest few that take contacts, and the one
    the patient picked from the full list if it is not among them (first, preselected)."""

    options: list[Option]
    total: int  # sites taking contacts in all; more than shown means "choose from all"
    picked: Site | None = None

    def by_id(self) -> dict[int, Site | None]:
        return {_option_id(site): site for site, _ in self.options}


def site_choices(
    session: Session, study: Study, origin: Place | None, wanted: str | None
) -> SiteChoices:
    """What the form offers; no options at all means the study takes no contacts now."""
    if not study.takes_contacts:
        return SiteChoices([], 0)
    total = count_sites(session, study, contactable=True)
    if total == 0:
        lists_sites = count_sites(session, study) > 0
        team = study.reaches_study_team(lists_sites=lists_sites)
        return SiteChoices([(None, None)] if team else [], 0)
    options: list[Option] = list(
        nearest_sites(session, study, origin=origin, limit=NEAREST_SHOWN, contactable=True)
    )
    picked = wanted_site(session, study, wanted)
    if picked is not None and picked.id in {site.id for site, _ in options if site}:
        picked = None  # already offered among the nearest
    if picked is not None:
        options.insert(0, (picked, _km(origin, picked)))
    return SiteChoices(options, total, picked)


def _km(origin: Place | None, site: Site) -> float | None:
    if origin is None or site.lat is None or site.lon is None:
        return None
    return haversine_km(origin.lat, origin.lon, site.lat, site.lon)


def _region(site: Site | None) -> str | None:
    return country_code(site.country) if site else None


def _option_id(site: Site | None) -> int:
    return site.id if site else STUDY_TEAM_OPTION


def _form_page(
    request: Request,
    study: Study,
    choices: SiteChoices,
    *,
    origin: Place | None,
    place_note: str | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    retry_after: int | None = None,
    carried: Carried | None = None,
) -> Response:
    errors = errors or {}
    token, nonce = csrf.issue_token(request)
    options = choices.options
    # The nearest site is preselected on a new form; a form shown again keeps the choice.
    # Without a place nothing is "nearest": the patient picks, unless there is one choice.
    preselect = str(_option_id(options[0][0])) if origin or len(options) == 1 else ""
    chosen = values.get("site", "") if errors else values.get("site") or preselect
    nearest = next((site for site in options if site[0] is not choices.picked), None)
    place_query = location_query(request) if origin else ""
    context = {
        "study": study,
        "sites": [
            {
                "id": _option_id(site),
                "site": site,
                "km": km,
                "label": site_label(site),
                "contact": study.contact_for(site),
                "contact_country": study.contact_country(site),
                "not_yet": site is not None and site.effective_status == NOT_YET_RECRUITING,
                "nearest": origin is not None and site is not None and (site, km) == nearest,
            }
            for site, km in options
        ],
        "total_sites": choices.total,
        "all_sites_url": _all_sites_url(request, study, place_query),
        "chosen": chosen,
        "values": values,
        "consented": values.get("consent", "").strip().lower() in CONSENT_VALUES,
        "errors": errors,
        "origin": origin,
        "place_note": place_note,
        "place_query": place_query,
        "csrf_token": token,
        "honeypot": HONEYPOT,
        "consent_wording": wording(CONSENT_VERSION),
        # Sites whose team speaks it are marked (a form shown again, or ?language=xx).
        "preferred_language": _preferred_language(request, values),
        "common_languages": COMMON_LANGUAGES,
        "all_languages": ALL_LANGUAGES,
        "carried": carried,
    }
    response = render(request, "contact/form.html", context, status_code=status_code)
    csrf.set_cookie(request, response, nonce)
    response.headers["Cache-Control"] = "no-store"
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _preferred_language(request: Request, values: dict[str, str]) -> str | None:
    code = (values.get("language") or request.query_params.get("language") or "").strip()
    return code if is_language(code) else None


def _all_sites_url(request: Request, study: Study, place_query: str) -> str:
    url = str(request.url_for("study_sites", nct_id=study.nct_id).path)
    return f"{url}?{urlencode({'open': '1'})}" + (f"&{place_query}" if place_query else "")


def _closed_page(
    request: Request, study: Study, session: Session, origin: Place | None
) -> Response:
    context = {
        "study": study,
        "related": related_studies(session, study, origin=origin),
        "place_query": location_query(request) if origin else "",
    }
    return render(request, "contact/closed.html", context)


@router.get("/studies/{nct_id}/contact", response_class=HTMLResponse)
def contact_form(request: Request, nct_id: str, session: DbSession) -> Response:
    origin, place_note = origin_or_none(request)
    study = study_or_404(session, nct_id)
    wanted = request.query_params.get("site", "")
    choices = site_choices(session, study, origin, wanted)
    if not choices.options:
        return _closed_page(request, study, session, origin)
    values = {"site": wanted} if wanted in {str(i) for i in choices.by_id()} else {}
    if origin is None and not values and len(choices.options) > 1 and not _chooses(request):
        # No place known: ask for one before calling any site "nearest".
        return _where_page(request, study, choices, place_note)
    return _form_page(request, study, choices, origin=origin, place_note=place_note, values=values)


def _chooses(request: Request) -> bool:
    """The patient asked to pick a site from the list without giving a place."""
    return request.query_params.get("choose") == "1"


def _where_page(
    request: Request, study: Study, choices: SiteChoices, place_note: str | None
) -> Response:
    context = {
        "study": study,
        "total_sites": choices.total,
        "place_note": place_note,
        "typed": request.query_params.get("location", "")[:200],
    }
    response = render(request, "contact/where.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (read here so the route itself can run in a thread)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/studies/{nct_id}/contact", response_class=HTMLResponse)
@csrf.shows_form_again
def submit_contact(
    request: Request,
    nct_id: str,
    data: Annotated[dict[str, str], Depends(_form_fields)],
    session: DbSession,
) -> Response:
    """Read, check, then write in one short transaction (see docs/reliability.md).

    By the time this runs the whole body has arrived and the CSRF check has been made,
    without a database connection. The study and the offered sites are read, the
    connection is let go, the form is validated (in production with a DNS look-up)
    holding nothing, and only then does one writing transaction (on SQLite the write
    lock) take the address's limit, check for a repeat and store the request and its
    two emails. A plain `def`: all of it runs in the request thread pool.
    """
    origin, place_note = origin_or_none(request)  # geocoded before any query
    study = study_or_404(session, nct_id)
    choices = site_choices(session, study, origin, data.get("site"))
    if not choices.options:
        return _closed_page(request, study, session, origin)
    release(session)

    by_id = choices.by_id()
    result = validate_contact_form(
        data,
        # A forged or expired post is refused anyway: no DNS look-up on its behalf.
        check_deliverability=request.app.state.settings.checks_email_domains
        and not csrf.failed(request),
        allowed_site_ids=by_id.keys(),
        phone_region=lambda site_id: _region(by_id.get(site_id)),
    )

    carried = Carried.of(study, data)

    def form_again(
        errors: dict[str, str], status_code: int, retry_after: int | None = None
    ) -> Response:
        return _form_page(
            request,
            study,
            choices,
            origin=origin,
            place_note=place_note,
            values=result.values,
            errors=errors,
            status_code=status_code,
            retry_after=retry_after,
            carried=carried,
        )

    if csrf.failed(request):
        return form_again({"form": csrf.FORM_AGAIN_MESSAGE, **result.errors}, 403)
    if data.get("handoff") == "notes":
        # "Get in touch, taking my answers along" on the notes page: a new form carrying them.
        return _form_page(
            request, study, choices, origin=origin, place_note=place_note, values={},
            carried=carried,
        )  # fmt: skip
    if result.submission is None:
        return form_again(result.errors, 422)
    settings, now = request.app.state.settings, dt.datetime.now(dt.UTC)
    prepared = prepare_contact_request(
        study=study,
        site=by_id[result.submission.site_id],
        submission=result.submission,
        settings=settings,
        now=now,
        answers=carried.for_site if carried else (),
    )
    try:
        with write_transaction(session):
            submitted = store_contact_request(session, prepared, settings=settings, now=now)
    except ratelimit.RateLimited as limited:
        return form_again({"form": RATE_LIMIT_MESSAGE}, 429, limited.retry_after)
    except DATABASE_UNAVAILABLE as exc:
        log.warning("contact request not stored: database unavailable (%s)", type(exc).__name__)
        return form_again({"form": UNAVAILABLE_MESSAGE}, 503, RETRY_AFTER_SECONDS)
    url = str(request.url_for("contact_confirmation", public_id=submitted.request.public_id))
    # The place goes along, so that the alert sign-up offered there can carry it.
    place = location_query(request) if origin else ""
    return RedirectResponse(url + (f"?{place}" if place else ""), status_code=303)


@router.get("/contact/requests/{public_id}", response_class=HTMLResponse)
def contact_confirmation(request: Request, public_id: str, session: DbSession) -> Response:
    contact = None
    if PUBLIC_ID.fullmatch(public_id):
        contact = session.scalar(
            select(ContactRequest).where(ContactRequest.public_id == public_id)
        )
    if contact is None:
        return render(request, "errors/404.html", {}, status_code=404)
    response = render(
        request,
        "contact/confirmation.html",
        {"contact": contact, "alert_query": _alert_query(request, session, contact)},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _alert_query(request: Request, session: Session, contact: ContactRequest) -> str:
    """The alert sign-up's query: the study's first listed condition, and the patient's
    place when they came with one."""
    study = session.get(Study, contact.study_id) if contact.study_id else None
    items: list[tuple[str, str]] = []
    if study is not None and study.conditions:
        items.append(("condition", study.conditions[0]))
    origin, _ = origin_or_none(request)
    if origin is not None:
        items += [(k, v) for k, v in parse_qsl(location_query(request))]
    items.append(("from", "confirmation"))
    return urlencode(items)
