"""Search-index upkeep: the text the full-text indexes read and the typo vocabulary.

The importer and the admin area's edits both change studies; both come here, so a study
edited by hand is found by exactly the words an imported one would be. The engines'
own index structures (FTS5 tables, tsvector, triggers) are the migrations'; this module
writes the columns they read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.studies.models import SearchTerm, Study
from app.studies.text import normalize

MIN_TERM, MAX_TERM = 3, 100
"""Words shorter than this are never typo-corrected; longer ones do not fit the column."""


def indexed_text(values: Mapping[str, Any]) -> dict[str, str]:
    """The normalised `search_*` columns for a study's field values."""
    titles = [
        values["brief_title"],
        values.get("official_title") or "",
        values.get("acronym") or "",
    ]
    return {
        "search_conditions": normalize(" ; ".join(values["conditions"] + values["keywords"])),
        "search_mesh": normalize(" ; ".join(values["mesh_terms"] + values["mesh_ancestors"])),
        "search_title": normalize(" ; ".join(titles)),
    }


def indexed_text_of(study: object) -> dict[str, str]:
    """`indexed_text` of anything carrying a study's fields as attributes (a Study, a record)."""
    return indexed_text(vars(study))


def add_terms(session: Session, studies: Iterable[object]) -> None:
    """Add the studies' words to the vocabulary that typo tolerance draws on."""
    terms: set[str] = set()
    for study in studies:
        for text in indexed_text_of(study).values():
            terms.update(w for w in text.split() if MIN_TERM <= len(w) <= MAX_TERM)
    if not terms:
        return
    rows = [{"term": t} for t in sorted(terms)]
    dialect = session.get_bind().dialect.name
    factory = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(factory(SearchTerm).on_conflict_do_nothing(), rows)


def reindex(session: Session, study: Study) -> None:
    """After an edit: the study's indexed text follows its fields, its words join the vocabulary."""
    for column, text in indexed_text_of(study).items():
        setattr(study, column, text)
    add_terms(session, [study])
