"""JSON search API: `/api/v1/studies`, the same search as the HTML results page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.deps import DbSession
from app.geo.places import PlaceError
from app.studies.search import (
    NearestSite,
    PlaceProblem,
    SearchHit,
    SearchParams,
    resolve_origin,
    search_studies,
)

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
