"""JSON API: `/api/v1/studies`, the same search as the HTML results page, and
`/api/v1/studies/{nct_id}`, the facts of the study page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.deps import DbSession
from app.geo.places import PlaceError
from app.studies.criteria import Criterion, parse_criteria
from app.studies.rules import NCT_ID
from app.studies.search import (
    NearestSite,
    PlaceProblem,
    SearchHit,
    SearchParams,
    related_studies,
    resolve_origin,
    search_studies,
)
from app.studies.sites import count_sites, nearest_sites
from app.studies.views import load_study

router = APIRouter(prefix="/api/v1", tags=["studies"])


class StudyCard(BaseModel):
    nct_id: str
    title: str
    overall_status: str
    conditions: list[str]
    sex: str
    min_age: str | None
    max_age: str | None
    url: str
    nearest_site: NearestSite | None


class StudyPage(BaseModel):
    total: int
    page: int
    page_size: int
    results: list[StudyCard]


_FROM_STUDY = ("nct_id", "title", "overall_status", "conditions", "sex", "min_age", "max_age")


def _card(hit: SearchHit, request: Request) -> StudyCard:
    study = hit.study
    return StudyCard(
        **{name: getattr(study, name) for name in _FROM_STUDY},
        url=str(request.url_for("study_page", nct_id=study.nct_id)),
        nearest_site=hit.nearest_site,
    )


def _place_error(exc: PlaceError) -> JSONResponse:
    problem = PlaceProblem.of(exc)
    detail: dict[str, Any] = {
        "loc": ["query", problem.field],
        "msg": problem.message,
        "type": "place",
    }
    if problem.options:
        detail["options"] = problem.options
    return JSONResponse(status_code=422, content={"detail": [detail]})


@router.get(
    "/studies",
    response_model=StudyPage,
    responses={422: {"description": "Invalid parameters or a place we cannot find"}},
)
def api_search(
    request: Request, session: DbSession, params: Annotated[SearchParams, Query()]
) -> StudyPage | JSONResponse:
    """Search studies recruiting now (or in the statuses asked for) by condition, age, sex
    and place; nearest first when a place is given, else by relevance."""
    try:
        origin = resolve_origin(params)
    except PlaceError as exc:
        return _place_error(exc)
    result = search_studies(session, params, origin=origin)
    return StudyPage(
        total=result.total,
        page=result.page,
        page_size=result.page_size,
        results=[_card(hit, request) for hit in result.hits],
    )


# --- one study --------------------------------------------------------------------------


class StudyContact(BaseModel):
    name: str | None = None
    phone: str | None = None
    phone_ext: str | None = None
    email: str | None = None


class Intervention(BaseModel):
    type: str | None = None
    name: str
    description: str | None = None
    other_names: list[str] = []


class Design(BaseModel):
    """How the study is run, in the registry's codes (e.g. "RANDOMIZED", "DOUBLE")."""

    study_type: str | None = None
    phases: list[str] = []
    allocation: str | None = None
    intervention_model: str | None = None
    observational_model: str | None = None
    time_perspective: str | None = None
    primary_purpose: str | None = None
    masking: str | None = None
    who_masked: list[str] = []
    enrollment: int | None = None
    enrollment_type: str | None = None


class CriterionItem(BaseModel):
    text: str
    heading: bool = False  # a sub-header ("Part B", "For adolescents:") over its children
    children: list[CriterionItem] = []


class Eligibility(BaseModel):
    sex: str
    min_age: str | None
    max_age: str | None
    healthy_volunteers: bool | None
    inclusion: list[CriterionItem]
    exclusion: list[CriterionItem]
    other: list[CriterionItem]


class Dates(BaseModel):
    start: str | None
    primary_completion: str | None
    completion: str | None
    first_posted: str | None
    last_updated: str | None


class SiteItem(BaseModel):
    id: int
    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    status: str
    distance_km: float | None


class RelatedStudy(BaseModel):
    nct_id: str
    title: str
    overall_status: str
    phases: list[str]
    url: str


class StudyDetail(BaseModel):
    """Everything the study page shows, as data (descriptions in the registry's markdown)."""

    nct_id: str
    title: str
    official_title: str | None
    acronym: str | None
    overall_status: str
    brief_summary: str | None
    detailed_description: str | None
    conditions: list[str]
    keywords: list[str]
    mesh_terms: list[str]
    sponsor: str | None
    design: Design
    interventions: list[Intervention]
    eligibility: Eligibility
    central_contacts: list[StudyContact]
    dates: Dates
    sites_total: int
    nearest_sites: list[SiteItem]
    related: list[RelatedStudy]
    url: str


NEAREST_IN_RESOURCE = 10


def _criteria(items: Sequence[Criterion]) -> list[CriterionItem]:
    return [
        CriterionItem(text=c.text, heading=c.heading, children=_criteria(c.children)) for c in items
    ]


@router.get(
    "/studies/{nct_id}",
    response_model=StudyDetail,
    responses={
        404: {"description": "No study has this NCT ID"},
        422: {"description": "Invalid parameters or a place we cannot find"},
    },
)
def api_study(
    request: Request,
    session: DbSession,
    nct_id: Annotated[str, Path(max_length=20, description="e.g. NCT01234567")],
    location: Annotated[str | None, Query(max_length=200)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
) -> StudyDetail | JSONResponse:
    """One study: its description, design, interventions, who can join (criteria as
    lists), contact, dates, its nearest sites (to `location` or `lat`/`lon` when given)
    and related recruiting studies."""
    study = load_study(session, nct_id)
    if study is None:
        problem = (
            f"No study has the NCT ID {nct_id!r}"
            if NCT_ID.match(nct_id.upper())
            else f"{nct_id!r} is not an NCT ID: they are NCT and 8 digits, like NCT01234567"
        )
        raise HTTPException(status_code=404, detail=problem)
    try:
        origin = resolve_origin(SearchParams(location=location, lat=lat, lon=lon))
    except PlaceError as exc:
        return _place_error(exc)
    criteria = parse_criteria(study.eligibility_criteria)
    design = dict(study.design or {})
    design["who_masked"] = design.get("who_masked") or []
    return StudyDetail(
        nct_id=study.nct_id,
        title=study.brief_title,
        official_title=study.official_title,
        acronym=study.acronym,
        overall_status=study.overall_status,
        brief_summary=study.brief_summary,
        detailed_description=study.detailed_description,
        conditions=study.conditions,
        keywords=study.keywords,
        mesh_terms=study.mesh_terms,
        sponsor=study.lead_sponsor,
        design=Design(study_type=study.study_type, phases=study.phases, **design),
        interventions=[Intervention(**item) for item in study.interventions],
        eligibility=Eligibility(
            sex=study.sex,
            min_age=study.min_age,
            max_age=study.max_age,
            healthy_volunteers=study.healthy_volunteers,
            inclusion=_criteria(criteria.inclusion),
            exclusion=_criteria(criteria.exclusion),
            other=_criteria(criteria.other),
        ),
        central_contacts=[StudyContact(**c) for c in study.central_contacts],
        dates=Dates(
            start=study.start_date,
            primary_completion=study.primary_completion_date,
            completion=study.completion_date,
            first_posted=study.first_posted,
            last_updated=study.last_updated,
        ),
        sites_total=count_sites(session, study),
        nearest_sites=[
            SiteItem(
                id=site.id,
                facility=site.facility,
                city=site.city,
                state=site.state,
                country=site.country,
                status=site.effective_status,
                distance_km=round(km, 1) if km is not None else None,
            )
            for site, km in nearest_sites(session, study, origin=origin, limit=NEAREST_IN_RESOURCE)
        ],
        related=[
            RelatedStudy(
                nct_id=hit.study.nct_id,
                title=hit.study.brief_title,
                overall_status=hit.study.overall_status,
                phases=hit.study.phases,
                url=str(request.url_for("study_page", nct_id=hit.study.nct_id)),
            )
            for hit in related_studies(session, study, origin=origin)
        ],
        url=str(request.url_for("study_page", nct_id=study.nct_id)),
    )
