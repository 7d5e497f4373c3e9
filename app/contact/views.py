"""The contact flow: form, submission, confirmation (DESIGN.md, "Get in touch")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from app import csrf
from app.contact.forms import CONSENT_VALUES, region_for_country, validate_contact_form
from app.contact.languages import ALL as ALL_LANGUAGES
from app.contact.languages import COMMON as COMMON_LANGUAGES
from app.contact.models import ContactRequest
from app.contact.routing import reaches_study_team
from app.contact.service import (
    PUBLIC_ID,
    RATE_LIMIT_MESSAGE,
    site_label,
    submit_contact_request,
    too_many_recent,
)
from app.deps import DbSession
from app.geo.places import Place
from app.studies.models import Site, Study
from app.studies.search import related_studies
from app.studies.views import load_study, location_query, origin_or_none, sites_by_distance

router = APIRouter(include_in_schema=False)  # pages, not API: kept out of /docs
NEAREST_SHOWN = 10
STUDY_TEAM_OPTION = 0  # the `site` value that means "the study team" (no sites listed)


def _render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, name, context, status_code=status_code
    )
    return response


def _not_found(request: Request, nct_id: str) -> Response:
    return _render(request, "errors/404.html", {"nct_id": nct_id}, status_code=404)


def contactable_sites(study: Study, origin: Place | None) -> list[tuple[Site | None, float | None]]:
    """Sites that take contacts, nearest first when the patient's place is known.

    A study that lists no sites but a central contact offers one choice, None: the
    study team.
    """
    if reaches_study_team(study):
        return [(None, None)]
    return [(s, km) for s, km in sites_by_distance(study.sites, origin) if s.takes_contacts]


def _region(site: Site | None) -> str | None:
    return region_for_country(site.country) if site else None


def _option_id(site: Site | None) -> int:
    return site.id if site else STUDY_TEAM_OPTION


def _form_page(
    request: Request,
    study: Study,
    sites: list[tuple[Site | None, float | None]],
    *,
    origin: Place | None,
    place_note: str | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int,
) -> Response:
    token, nonce = csrf.issue_token(request)
    # The nearest site is preselected on a new form; a form shown again keeps the choice.
    chosen = (
        values.get("site", "") if errors else values.get("site") or str(_option_id(sites[0][0]))
    )
    context = {
        "study": study,
        "sites": [
            {
                "id": _option_id(site),
                "site": site,
                "km": km,
                "label": site_label(site),
                "contact": study.contact_for(site),
                "not_yet": site is not None and site.effective_status == "NOT_YET_RECRUITING",
            }
            for site, km in sites
        ],
        "nearest_shown": NEAREST_SHOWN,
        "chosen": chosen,
        "values": values,
        "consented": values.get("consent", "").strip().lower() in CONSENT_VALUES,
        "errors": errors,
        "origin": origin,
        "place_note": place_note,
        "place_query": location_query(request) if origin else "",
        "csrf_token": token,
        "common_languages": COMMON_LANGUAGES,
        "all_languages": ALL_LANGUAGES,
    }
    response = _render(request, "contact/form.html", context, status_code=status_code)
    csrf.set_cookie(request, response, nonce)
    response.headers["Cache-Control"] = "no-store"
    return response


def _closed_page(
    request: Request, study: Study, session: DbSession, origin: Place | None
) -> Response:
    context = {
        "study": study,
        "related": related_studies(session, study, origin=origin),
        "place_query": location_query(request) if origin else "",
    }
    return _render(request, "contact/closed.html", context)


@router.get("/studies/{nct_id}/contact", response_class=HTMLResponse)
def contact_form(request: Request, nct_id: str, session: DbSession) -> Response:
    study = load_study(session, nct_id)
    if study is None:
        return _not_found(request, nct_id)
    origin, place_note = origin_or_none(request)
    sites = contactable_sites(study, origin)
    if not study.takes_contacts or not sites:
        return _closed_page(request, study, session, origin)
    wanted = request.query_params.get("site", "")
    values = {"site": wanted} if wanted in {str(_option_id(s)) for s, _ in sites} else {}
    return _form_page(
        request,
        study,
        sites,
        origin=origin,
        place_note=place_note,
        values=values,
        errors={},
        status_code=200,
    )


async def _form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (read here so the route itself can run in a thread)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/studies/{nct_id}/contact", response_class=HTMLResponse)
def submit_contact(
    request: Request,
    nct_id: str,
    data: Annotated[dict[str, str], Depends(_form_fields)],
    session: DbSession,
) -> Response:
    # `data` comes before `session` on purpose: FastAPI resolves dependencies in order,
    # so the whole body has arrived before a database connection (and, on SQLite, the
    # write lock) is taken. A slow or stalled upload holds nothing. A plain `def`: the
    # database work runs in the thread pool, not on the event loop.
    study = load_study(session, nct_id)
    if study is None:
        return _not_found(request, nct_id)
    origin, place_note = origin_or_none(request)
    sites = contactable_sites(study, origin)
    if not study.takes_contacts or not sites:
        return _closed_page(request, study, session, origin)
    by_id = {_option_id(site): site for site, _ in sites}
    result = validate_contact_form(
        data,
        check_deliverability=request.app.state.settings.checks_email_domains,
        allowed_site_ids=by_id.keys(),
        phone_region=lambda site_id: _region(by_id.get(site_id)),
    )
    errors = dict(result.errors)
    if not csrf.check(request, data.get(csrf.FIELD)):
        errors["form"] = (
            "For your security, this form needs to be sent again. Your answers are kept: "
            "please check them and press the button once more."
        )
        status = 403
    else:
        status = 422
    if errors or result.submission is None:
        return _form_page(
            request,
            study,
            sites,
            origin=origin,
            place_note=place_note,
            values=result.values,
            errors=errors,
            status_code=status,
        )
    settings = request.app.state.settings
    if too_many_recent(session, result.submission.email, now=dt.datetime.now(dt.UTC)):
        errors = {"form": RATE_LIMIT_MESSAGE}
        return _form_page(
            request,
            study,
            sites,
            origin=origin,
            place_note=place_note,
            values=result.values,
            errors=errors,
            status_code=429,
        )
    submitted = submit_contact_request(
        session,
        study=study,
        site=by_id[result.submission.site_id],
        submission=result.submission,
        settings=settings,
        now=dt.datetime.now(dt.UTC),
    )
    url = request.url_for("contact_confirmation", public_id=submitted.request.public_id)
    return RedirectResponse(str(url), status_code=303)


@router.get("/contact/requests/{public_id}", response_class=HTMLResponse)
def contact_confirmation(request: Request, public_id: str, session: DbSession) -> Response:
    contact = None
    if PUBLIC_ID.fullmatch(public_id):
        contact = session.scalar(
            select(ContactRequest).where(ContactRequest.public_id == public_id)
        )
    if contact is None:
        return _render(request, "errors/404.html", {}, status_code=404)
    response = _render(request, "contact/confirmation.html", {"contact": contact})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request) -> Response:
    return _render(request, "contact/notifications.html", {})
