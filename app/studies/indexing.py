"""Search-index upkeep: the text the full-text indexes read and the typo vocabulary.

The importer and the admin area's edits both change studies; both come here, so a study
edited by hand is found by exactly the words an imported one would be. The engines'
own index structures (FTS5 tables, tsvector, triggers) are the migrations'; this module
writes the columns they read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select
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


def _terms(texts: Iterable[str]) -> set[str]:
    """The vocabulary words in indexed texts."""
    return {w for text in texts for w in text.split() if MIN_TERM <= len(w) <= MAX_TERM}


def add_terms(session: Session, studies: Iterable[object]) -> None:
    """Add the studies' words to the vocabulary that typo tolerance draws on."""
    terms = _terms(text for study in studies for text in indexed_text_of(study).values())
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


def prune_terms(session: Session, *, batch: int = 1000) -> int:
    """Drop the words no study uses any more from the vocabulary; return how many.

    After studies are removed, their words would otherwise stay, and a typo could be
    "corrected" towards a word that no longer finds anything. Reads only the indexed
    text columns, a batch of studies at a time.
    """
    columns = (Study.search_conditions, Study.search_mesh, Study.search_title)
    used: set[str] = set()
    for row in session.execute(select(*columns).execution_options(yield_per=batch)):
        used |= _terms(row)
    unused = sorted(set(session.scalars(select(SearchTerm.term))) - used)
    for start in range(0, len(unused), batch):
        chunk = unused[start : start + batch]
        session.execute(delete(SearchTerm).where(SearchTerm.term.in_(chunk)))
    return len(unused)
