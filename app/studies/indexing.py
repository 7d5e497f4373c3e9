"""Search-index upkeep: the text the full-text indexes read and the typo vocabulary.

The importer and the admin area's edits both change studies; both come here, so a study
edited by hand is found by exactly the words an imported one would be. The engines'
own index structures (FTS5 tables, tsvector, triggers) are the migrations'; this module
writes the columns they read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.studies.models import SearchTerm, Study
from app.studies.text import search_text

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
        "search_conditions": search_text(" ; ".join(values["conditions"] + values["keywords"])),
        "search_mesh": search_text(" ; ".join(values["mesh_terms"] + values["mesh_ancestors"])),
        "search_title": search_text(" ; ".join(titles)),
    }


def indexed_text_of(study: object) -> dict[str, str]:
    """`indexed_text` of anything carrying a study's fields as attributes (a Study, a record)."""
    return indexed_text(vars(study))


def _terms(texts: Iterable[str]) -> set[str]:
    """The vocabulary words in indexed texts."""
    return {w for text in texts for w in text.split() if MIN_TERM <= len(w) <= MAX_TERM}


def add_terms(session: Session, studies: Iterable[object]) -> None:
    """Add the studies' words to the vocabulary that typo tolerance draws on."""
    _add_words(session, (text for study in studies for text in indexed_text_of(study).values()))


def _add_words(session: Session, texts: Iterable[str]) -> None:
    terms = _terms(texts)
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


def reindex_all(session: Session, *, batch: int = 500) -> int:
    """Rewrite every study's indexed text with the current rules; return how many changed.

    For a change of the rules themselves (a migration calls it): a re-import would not
    rewrite an unchanged record. Reads and writes a batch of studies at a time, then drops
    the words no study uses any more from the vocabulary.
    """
    fields = (
        Study.id,
        Study.brief_title,
        Study.official_title,
        Study.acronym,
        Study.conditions,
        Study.keywords,
        Study.mesh_terms,
        Study.mesh_ancestors,
        Study.search_conditions,
        Study.search_mesh,
        Study.search_title,
    )
    changed, last = 0, 0
    while True:
        query = select(*fields).where(Study.id > last).order_by(Study.id).limit(batch)
        rows = session.execute(query).all()
        if not rows:
            break
        for row in rows:
            values = row._asdict()
            texts = indexed_text(values)
            if any(values[column] != text for column, text in texts.items()):
                session.execute(update(Study).where(Study.id == row.id).values(**texts))
                changed += 1
            _add_words(session, texts.values())
        last = rows[-1].id
    prune_terms(session)
    return changed


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
