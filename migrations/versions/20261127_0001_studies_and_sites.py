"""Studies, their sites, the search vocabulary and the full-text and spatial indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Status codes for the R*Tree, in the order of app.studies.rules.STATUSES (code = index + 1;
# 0 for anything else). A test searches a site of every status to keep the two in step.
_STATUS_ORDER = (
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ENROLLING_BY_INVITATION",
    "ACTIVE_NOT_RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "COMPLETED",
    "WITHDRAWN",
    "UNKNOWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
)


def _code(expression: str) -> str:
    cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(_STATUS_ORDER, start=1))
    return f"(CASE {expression} {cases} ELSE 0 END)"


_STATUS_CODE = _code("coalesce(new.status, studies.overall_status)")
_STUDY_STATUS_CODE = _code("new.overall_status")

_SQLITE_UP = [
    # External-content FTS5 over the normalised search columns; triggers keep it in step
    # with every insert, update and delete of a study, whoever makes it.
    """CREATE VIRTUAL TABLE study_fts USING fts5(
        search_conditions, search_mesh, search_title,
        content='studies', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER study_fts_ai AFTER INSERT ON studies BEGIN
        INSERT INTO study_fts(rowid, search_conditions, search_mesh, search_title)
        VALUES (new.id, new.search_conditions, new.search_mesh, new.search_title);
    END""",
    """CREATE TRIGGER study_fts_ad AFTER DELETE ON studies BEGIN
        INSERT INTO study_fts(study_fts, rowid, search_conditions, search_mesh, search_title)
        VALUES ('delete', old.id, old.search_conditions, old.search_mesh, old.search_title);
    END""",
    """CREATE TRIGGER study_fts_au
    AFTER UPDATE OF search_conditions, search_mesh, search_title ON studies BEGIN
        INSERT INTO study_fts(study_fts, rowid, search_conditions, search_mesh, search_title)
        VALUES ('delete', old.id, old.search_conditions, old.search_mesh, old.search_title);
        INSERT INTO study_fts(rowid, search_conditions, search_mesh, search_title)
        VALUES (new.id, new.search_conditions, new.search_mesh, new.search_title);
    END""",
    # R*Tree of site points. Everything a radius search reads is a dimension (status as
    # a small code, the study id) rather than an auxiliary column: auxiliary columns
    # cost a b-tree lookup per candidate, dimensions are read from the index nodes.
    # Integers below 2**24 are exact in the R*Tree's 32-bit floats.
    """CREATE VIRTUAL TABLE site_geo USING rtree(
        id, min_lat, max_lat, min_lon, max_lon, min_status, max_status, min_study, max_study)""",
    f"""CREATE TRIGGER site_geo_ai AFTER INSERT ON sites
    WHEN new.lat IS NOT NULL AND new.lon IS NOT NULL BEGIN
        INSERT INTO site_geo SELECT
            new.id, new.lat, new.lat, new.lon, new.lon,
            {_STATUS_CODE}, {_STATUS_CODE}, new.study_id, new.study_id
        FROM studies WHERE studies.id = new.study_id;
    END""",
    """CREATE TRIGGER site_geo_ad AFTER DELETE ON sites BEGIN
        DELETE FROM site_geo WHERE id = old.id;
    END""",
    f"""CREATE TRIGGER site_geo_au AFTER UPDATE ON sites BEGIN
        DELETE FROM site_geo WHERE id = old.id;
        INSERT INTO site_geo SELECT
            new.id, new.lat, new.lat, new.lon, new.lon,
            {_STATUS_CODE}, {_STATUS_CODE}, new.study_id, new.study_id
        FROM studies WHERE studies.id = new.study_id
            AND new.lat IS NOT NULL AND new.lon IS NOT NULL;
    END""",
    f"""CREATE TRIGGER site_geo_study_status AFTER UPDATE OF overall_status ON studies BEGIN
        UPDATE site_geo SET
            min_status = {_STUDY_STATUS_CODE}, max_status = {_STUDY_STATUS_CODE}
        WHERE id IN (SELECT id FROM sites WHERE study_id = new.id AND status IS NULL);
    END""",
]
_SQLITE_DOWN = [
    "DROP TRIGGER site_geo_study_status",
    "DROP TRIGGER site_geo_au",
    "DROP TRIGGER site_geo_ad",
    "DROP TRIGGER site_geo_ai",
    "DROP TABLE site_geo",
    "DROP TRIGGER study_fts_au",
    "DROP TRIGGER study_fts_ad",
    "DROP TRIGGER study_fts_ai",
    "DROP TABLE study_fts",
]
_POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # English stemming without PostgreSQL's stop-word list: SQLite's FTS5 keeps every
    # word, and the search drops the same few words from queries on both engines, so
    # "ALL leukemia" or "Down syndrome" mean the same thing on either.
    "CREATE TEXT SEARCH DICTIONARY trialfinder_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION trialfinder (COPY = english)",
    """ALTER TEXT SEARCH CONFIGURATION trialfinder ALTER MAPPING
        FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
        WITH trialfinder_stem""",
    # Weighted so that a match in the conditions ranks above one in MeSH ancestors or title.
    """ALTER TABLE studies ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('trialfinder'::regconfig, search_conditions), 'A')
        || setweight(to_tsvector('trialfinder'::regconfig, search_mesh), 'B')
        || setweight(to_tsvector('trialfinder'::regconfig, search_title), 'C')) STORED""",
    "CREATE INDEX ix_studies_search_vector ON studies USING gin (search_vector)",
    """CREATE INDEX ix_sites_geo ON sites USING gist (point(lon, lat))
        WHERE lat IS NOT NULL AND lon IS NOT NULL""",
    "CREATE INDEX ix_search_terms_trgm ON search_terms USING gin (term gin_trgm_ops)",
]
_POSTGRES_DOWN = [
    "DROP INDEX ix_search_terms_trgm",
    "DROP INDEX ix_sites_geo",
    "DROP INDEX ix_studies_search_vector",
    "ALTER TABLE studies DROP COLUMN search_vector",
    "DROP TEXT SEARCH CONFIGURATION trialfinder",
    "DROP TEXT SEARCH DICTIONARY trialfinder_stem",
]


def upgrade() -> None:
    # SQLite reads a row's columns in order, following overflow pages past long texts:
    # the columns every search filters on come first, the long texts last.
    op.create_table(
        "studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nct_id", sa.String(16), nullable=False),
        sa.Column("overall_status", sa.String(40), nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("min_age_years", sa.Float(), nullable=True),
        sa.Column("max_age_years", sa.Float(), nullable=True),
        sa.Column("last_updated", sa.String(10), nullable=True),
        sa.Column("source_hash", sa.String(64), nullable=False),
        sa.Column("brief_title", sa.Text(), nullable=False),
        sa.Column("acronym", sa.Text(), nullable=True),
        sa.Column("organization", sa.Text(), nullable=True),
        sa.Column("lead_sponsor", sa.Text(), nullable=True),
        sa.Column("study_type", sa.Text(), nullable=True),
        sa.Column("phases", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.String(10), nullable=True),
        sa.Column("primary_completion_date", sa.String(10), nullable=True),
        sa.Column("completion_date", sa.String(10), nullable=True),
        sa.Column("first_posted", sa.String(10), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("mesh_terms", sa.JSON(), nullable=False),
        sa.Column("mesh_ancestors", sa.JSON(), nullable=False),
        sa.Column("min_age", sa.Text(), nullable=True),
        sa.Column("max_age", sa.Text(), nullable=True),
        sa.Column("healthy_volunteers", sa.Boolean(), nullable=True),
        sa.Column("central_contacts", sa.JSON(), nullable=False),
        sa.Column("search_conditions", sa.Text(), nullable=False),
        sa.Column("search_mesh", sa.Text(), nullable=False),
        sa.Column("search_title", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("brief_summary", sa.Text(), nullable=True),
        sa.Column("detailed_description", sa.Text(), nullable=True),
        sa.Column("eligibility_criteria", sa.Text(), nullable=True),
        sa.Column("official_title", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studies")),
        sa.UniqueConstraint("nct_id", name=op.f("uq_studies_nct_id")),
    )
    # Covers the status, sex and age filters and the default order, so searches without a
    # condition or place read this index rather than the wide rows.
    op.create_index(
        "ix_studies_eligibility",
        "studies",
        ["overall_status", "sex", "min_age_years", "max_age_years", "last_updated"],
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("facility", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("zip", sa.Text(), nullable=True),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("status", sa.String(40), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["studies.id"],
            name=op.f("fk_sites_study_id_studies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_index(op.f("ix_sites_study_id"), "sites", ["study_id"])
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("term", name=op.f("pk_search_terms")),
    )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_UP if dialect == "sqlite" else _POSTGRES_UP:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_DOWN if dialect == "sqlite" else _POSTGRES_DOWN:
        op.execute(statement)
    op.drop_table("search_terms")
    op.drop_index(op.f("ix_sites_study_id"), table_name="sites")
    op.drop_table("sites")
    op.drop_index("ix_studies_eligibility", table_name="studies")
    op.drop_table("studies")
