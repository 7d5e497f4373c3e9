"""The daily jobs every worker offers to run (app/jobs.py runs each once a day, on one worker).

Purge is here rather than in a domain package because it spans them: the privacy
package's retention and the admin area's login attempts. "send-alerts" queues the patient
alert digests (app/alerts/digest.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from app.admin.auth import forget_login_attempts
from app.alerts.digest import send_alerts
from app.config import Settings
from app.db import write_transaction
from app.jobs import DailyJob
from app.privacy.retention import purge


def purge_everything(
    sessions: sessionmaker[Session], *, settings: Settings, now: dt.datetime
) -> str:
    """Everything personal that is older than the retention period; a summary in counts."""
    removed = purge(sessions, settings=settings, now=now)
    with sessions() as session, write_transaction(session):
        attempts = forget_login_attempts(
            session, before=now - dt.timedelta(days=settings.retention_days)
        )
    return f"{removed}; {attempts} old login attempt(s) removed"


def daily_jobs(settings: Settings) -> list[DailyJob]:
    def run_purge(sessions: sessionmaker[Session], now: dt.datetime) -> str:
        return purge_everything(sessions, settings=settings, now=now)

    def run_alerts(sessions: sessionmaker[Session], now: dt.datetime) -> str:
        return str(send_alerts(sessions, settings=settings, now=now))

    return [DailyJob("purge", run_purge), DailyJob("send-alerts", run_alerts)]
