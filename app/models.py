"""Imports every model module so that `Base.metadata` knows all tables (Alembic, tests)."""

from app.admin.models import AdminUser, AuditEvent, ImportJob, LoginAttempt
from app.alerts.models import Alert, AlertLink, AlertRun, AlertStudy
from app.contact.models import ContactCount, ContactRequest
from app.jobs import DailyJobRun
from app.keycheck import KeyCheck
from app.notes.models import Share
from app.outbox.models import OutboxMessage
from app.ratelimit import RateLimitRow
from app.studies.models import SearchTerm, Site, Study

__all__ = [
    "AdminUser",
    "Alert",
    "AlertLink",
    "AlertRun",
    "AlertStudy",
    "AuditEvent",
    "ContactCount",
    "ContactRequest",
    "DailyJobRun",
    "ImportJob",
    "KeyCheck",
    "LoginAttempt",
    "OutboxMessage",
    "RateLimitRow",
    "SearchTerm",
    "Share",
    "Site",
    "Study",
]
