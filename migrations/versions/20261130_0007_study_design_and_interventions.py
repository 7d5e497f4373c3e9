"""Study design and interventions, as the registry gives them; the languages a site speaks.

The importer fills design and interventions on the next import of each study: the parsed
record changes, so its digest does, and the study is rewritten. Site languages are
recorded by administrators.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a table rebuild: on SQLite a rebuild of `studies` would drop
    # the triggers that keep its search index in step. The defaults stay on the columns.
    op.add_column("studies", sa.Column("design", sa.JSON(), nullable=False, server_default="{}"))
    op.add_column(
        "studies", sa.Column("interventions", sa.JSON(), nullable=False, server_default="[]")
    )
    op.add_column("sites", sa.Column("languages", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("sites", "languages")
    op.drop_column("studies", "interventions")
    op.drop_column("studies", "design")
