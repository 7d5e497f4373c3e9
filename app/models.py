"""Imports every model module so that `Base.metadata` knows all tables (Alembic, tests)."""

from app.contact.models import ContactRequest
from app.outbox.models import OutboxMessage
from app.studies.models import SearchTerm, Site, Study

__all__ = ["ContactRequest", "OutboxMessage", "SearchTerm", "Site", "Study"]
