"""Imports every model module so that `Base.metadata` knows all tables (Alembic, tests)."""

from app.studies.models import SearchTerm, Site, Study

__all__ = ["SearchTerm", "Site", "Study"]
