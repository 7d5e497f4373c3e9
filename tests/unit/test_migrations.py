"""Migrations are the schema's only source: they build it, match the models, and undo."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

import app.models  # noqa: F401
from app.cli import alembic_config
from app.config import Settings
from app.db import Base, include_object


def test_single_head(settings: Settings) -> None:
    assert len(ScriptDirectory.from_config(alembic_config(settings)).get_heads()) == 1


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_up_again(settings: Settings, engine: Engine) -> None:
    config = alembic_config(settings)
    command.downgrade(config, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    command.upgrade(config, "head")
    assert {"studies", "sites", "search_terms"} <= set(inspect(engine).get_table_names())
