"""Search over real ClinicalTrials.gov records (read from ../shared, never copied here)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ctgov.importer import import_records, read_records
from app.studies.models import Study
from app.studies.search import SearchParams, search_studies
from app.studies.text import words
from tests.conftest import NOW


def _finds(session: Session, condition: str, status: str, nct_id: str) -> bool:
    page = 1
    while True:
        params = SearchParams(condition=condition, status=[status], page=page, page_size=100)
        result = search_studies(session, params)
        if any(hit.study.nct_id == nct_id for hit in result.hits):
            return True
        if page >= result.pages:
            return False
        page += 1


def test_every_study_is_found_by_each_of_its_conditions(
    session: Session, shared_studies: Path
) -> None:
    """Every study whose conditions list contains the query phrase is found."""
    report = import_records(session, read_records([str(shared_studies)]), now=NOW)
    assert report.rejected == []
    studies = session.scalars(select(Study).order_by(Study.nct_id)).all()
    missed = [
        (study.nct_id, condition)
        for study in studies[::6]
        for condition in study.conditions[:3]
        if words(condition) and not _finds(session, condition, study.overall_status, study.nct_id)
    ]
    assert missed == []
