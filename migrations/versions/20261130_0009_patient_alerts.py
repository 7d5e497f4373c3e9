"""Patient Notification Services: alerts, and when studies and sites became visible.

Adds `first_seen_at` and `status_since` to studies and sites (existing rows: when the
study was imported, so nothing already listed counts as new), extra headers for queued
mail (List-Unsubscribe), and the tables of alerts, the studies each was sent, requested
manage links and digest runs. The new columns are added in place, not by rebuilding the
tables, so SQLite keeps the full-text and spatial index triggers on studies and sites.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only for rows that exist now; every writer sets these columns itself.
LONG_AGO = sa.text("'2000-01-01 00:00:00+00:00'")
SEEN = ("first_seen_at", "status_since")


def upgrade() -> None:
    for table in ("studies", "sites"):
        for column in SEEN:
            op.add_column(
                table,
                sa.Column(
                    column, sa.DateTime(timezone=True), nullable=False, server_default=LONG_AGO
                ),
            )
            op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)
    op.execute("UPDATE studies SET first_seen_at = imported_at, status_since = imported_at")
    op.execute(
        "UPDATE sites SET first_seen_at = (SELECT imported_at FROM studies "
        "WHERE studies.id = sites.study_id), status_since = (SELECT imported_at FROM studies "
        "WHERE studies.id = sites.study_id)"
    )
    op.add_column("outbox_messages", sa.Column("headers", sa.Text(), nullable=True))

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("email_key", sa.String(length=64), nullable=False),
        sa.Column("search", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_page", sa.String(length=40), nullable=False),
        sa.Column("consent_version", sa.String(length=16), nullable=False),
        sa.Column("confirm_key", sa.String(length=64), nullable=True),
        sa.Column("confirm_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribe_key", sa.String(length=64), nullable=False),
        sa.Column("unsubscribe_token", sa.Text(), nullable=False),
        sa.Column("manage_key", sa.String(length=64), nullable=False),
        sa.Column("manage_token", sa.Text(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("public_id", name=op.f("uq_alerts_public_id")),
        sa.UniqueConstraint("confirm_key", name=op.f("uq_alerts_confirm_key")),
        sa.UniqueConstraint("unsubscribe_key", name=op.f("uq_alerts_unsubscribe_key")),
        sa.UniqueConstraint("manage_key", name=op.f("uq_alerts_manage_key")),
    )
    for column in ("email_key", "dedup_key", "status", "confirmed_at"):
        op.create_index(op.f(f"ix_alerts_{column}"), "alerts", [column], unique=False)

    op.create_table(
        "alert_studies",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_studies_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "study_id", name=op.f("pk_alert_studies")),
    )
    op.create_index(op.f("ix_alert_studies_study_id"), "alert_studies", ["study_id"])
    op.create_index(op.f("ix_alert_studies_sent_at"), "alert_studies", ["sent_at"])

    op.create_table(
        "alert_links",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("email_key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert_links")),
    )
    op.create_index(op.f("ix_alert_links_email_key"), "alert_links", ["email_key"])
    op.create_index(op.f("ix_alert_links_expires_at"), "alert_links", ["expires_at"])

    op.create_table(
        "alert_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("digests", sa.Integer(), nullable=False),
        sa.Column("studies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_runs")),
    )
    op.create_index(op.f("ix_alert_runs_finished_at"), "alert_runs", ["finished_at"])


def downgrade() -> None:
    op.drop_table("alert_runs")
    op.drop_table("alert_links")
    op.drop_table("alert_studies")
    op.drop_table("alerts")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a rebuilt table would lose the
    # SQLite triggers of the search and spatial indexes.
    op.execute("ALTER TABLE outbox_messages DROP COLUMN headers")
    for table in ("sites", "studies"):
        for column in SEEN:
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
