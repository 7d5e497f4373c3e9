"""Taking the fictional demo studies away again: `trialfinder demo-data --remove`.

Demo studies are recognised by their NCT IDs alone (`app.studies.rules.is_fictional`: "NCT9"
and seven digits, a range the registry has not reached), so real imported studies are never
touched, whatever else they have in common with the demo. They go with their sites, as the
importer and the admin area remove studies: sites first, then studies, in one statement each,
so that the engines' own search structures follow (on SQLite the triggers of the full-text
and R*Tree indexes; on PostgreSQL the indexes of the rows themselves), and the typo vocabulary
then loses the words that only they used. Contact requests about them keep their history: the
database sets their study and site references to NULL, and each request keeps its own copy of
the NCT ID, title and site name; their emails are not touched.

The caller owns the transaction (this module never commits).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, func, select
from sqlalchemy.orm import Session

from app.contact.models import ContactRequest
from app.studies.indexing import prune_terms
from app.studies.models import Site, Study
from app.studies.rules import FICTIONAL_PREFIX


@dataclass(frozen=True)
class RemovedDemo:
    """What `remove_demo_studies` removed, and what it left."""

    studies: int
    sites: int
    terms: int
    """Words of the typo vocabulary that only the demo studies used."""
    studies_left: int
    requests_kept: int
    """Contact requests about the removed studies, kept with their own copy of the facts."""

    def __str__(self) -> str:
        said = (
            f"removed {_n(self.studies, 'demo study', 'demo studies')} with "
            f"{_n(self.sites, 'site', 'sites')}; "
            f"{_n(self.studies_left, 'other study', 'other studies')} kept"
        )
        if self.requests_kept:
            said += (
                f"; {_n(self.requests_kept, 'contact request', 'contact requests')} about them "
                "kept, with their NCT ID and title"
            )
        return said


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def remove_demo_studies(session: Session) -> RemovedDemo:
    """Delete every fictional demo study with its sites, and prune the vocabulary."""
    fictional = Study.nct_id.startswith(FICTIONAL_PREFIX, autoescape=True)
    requests = session.scalar(
        select(func.count())
        .select_from(ContactRequest)
        .where(ContactRequest.study_id.in_(select(Study.id).where(fictional)))
    )
    # Bulk statements: the session holds none of these rows to keep in step.
    bulk = {"synchronize_session": False}
    sites = session.execute(
        delete(Site).where(Site.study_id.in_(select(Study.id).where(fictional))),
        execution_options=bulk,
    )
    studies = session.execute(delete(Study).where(fictional), execution_options=bulk)
    terms = prune_terms(session)
    left = session.scalar(select(func.count()).select_from(Study)) or 0
    return RemovedDemo(
        studies=_count(studies),
        sites=_count(sites),
        terms=terms,
        studies_left=left,
        requests_kept=requests or 0,
    )


def _count(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount
