"""The search's age and sex rule in Python (`admits`, used by alert digests) says exactly
what the SQL filter of the site's search says, on both databases."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.studies.models import Study
from app.studies.search import SearchParams, _study_filters, admits
from tests import factories as f
from tests.conftest import load

MINIMA = (None, "6 Months", "18 Years", "65 Years")
MAXIMA = (None, "17 Years", "64 Years", "65 Years", "100 Years")
SEXES = ("ALL", "FEMALE", "MALE")


def test_admits_agrees_with_the_sql_filter_for_every_combination(session: Session) -> None:
    records: list[dict[str, Any]] = [
        f.study(min_age=low, max_age=high, sex=sex)
        for low, high, sex in itertools.product(MINIMA, MAXIMA, SEXES)
    ]
    load(session, *records)
    studies = session.scalars(select(Study)).all()
    assert len(studies) == len(records)
    for age, sex in itertools.product((None, 0, 17, 18, 64, 65, 66, 120), (None, "female", "male")):
        params = SearchParams(age=age, sex=sex, status=[s.overall_status for s in studies[:1]])
        by_sql = set(session.scalars(select(Study.id).where(*_study_filters(params))))
        by_python = {
            s.id
            for s in studies
            if admits(
                age=age,
                sex=sex,
                study_sex=s.sex,
                min_age_years=s.min_age_years,
                max_age_years=s.max_age_years,
            )
        }
        assert by_sql == by_python, (age, sex)
        assert 0 < len(by_sql) <= len(studies)
