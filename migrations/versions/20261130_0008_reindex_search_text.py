"""Rebuild every study's indexed text with the current search rules.

The search rules now drop possessive "'s" and fold British spellings to American ones
(app/studies/text.py), on the query and on the indexed text alike. Rows indexed before
this revision still hold "crohn s" and "leukaemia", and a re-import would not rewrite
them (an unchanged record keeps its digest), so this revision rewrites the `search_*`
columns of every study; the engines' own indexes follow through the FTS5 triggers and
the generated tsvector. The typo vocabulary is rebuilt from the new text.

It runs the application's current indexing code on purpose: a later change to the rules
should come with its own revision like this one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op
from sqlalchemy.orm import Session

from app.studies.indexing import reindex_all

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    reindex_all(Session(bind=op.get_bind()))


def downgrade() -> None:
    # The earlier rules are gone from the code; the folded text is harmless to them except
    # that possessives written with an apostrophe stay unfound, as they were. A re-import
    # with the earlier code would restore the earlier text.
    pass
