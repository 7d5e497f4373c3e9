"""Rate limits that hold across processes: one locked row of recent uses per key.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("uses", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_rate_limits")),
    )
    op.create_index(op.f("ix_rate_limits_updated_at"), "rate_limits", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_limits_updated_at"), table_name="rate_limits")
    op.drop_table("rate_limits")
