"""The email worker: claim due outbox rows, send each outside any transaction, record it.

`trialfinder worker` runs `run_forever`; `trialfinder worker --once` runs `run_once`;
`trialfinder serve --with-worker` runs the loop in a thread of the web process.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.config import Settings
from app.db import DATABASE_UNAVAILABLE, writing
from app.jobs import DailyJob
from app.outbox.email.senders import DeliveryError, OutgoingEmail, Sender
from app.outbox.models import FAILED, SENT
from app.outbox.queue import (
    GONE,
    LOST_LEASE,
    BounceHook,
    Claimed,
    claim,
    record_outcome,
    renew_lease,
)
from app.outbox.retry import RetryPolicy

log = logging.getLogger("trialfinder.worker")
RECORD_ATTEMPTS = 5
# How often a worker asks whether a daily job is due: a cheap query, once a minute.
JOB_CHECK_SECONDS = 60.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class RunCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"sent {self.sent}, retried later {self.retried}, failed {self.failed}"


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        sender: Sender,
        settings: Settings,
        *,
        name: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        rng: random.Random | None = None,
        daily_jobs: Sequence[DailyJob] = (),
        on_bounce: BounceHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.sender = sender
        self.settings = settings
        self.policy = RetryPolicy.from_settings(settings)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.rng = rng
        self.daily_jobs = daily_jobs
        self.on_bounce = on_bounce
        self._jobs_checked_at: float | None = None

    def run_daily_jobs(self) -> dict[str, str]:
        """Run the daily jobs that are due and that no other worker holds (app/jobs.py)."""
        return jobs.run_due(self.sessions, self.daily_jobs, worker=self.name, now=self.clock)

    def _maybe_run_daily_jobs(self) -> None:
        monotonic = time.monotonic()
        if (
            self._jobs_checked_at is not None
            and monotonic - self._jobs_checked_at < JOB_CHECK_SECONDS
        ):
            return
        self._jobs_checked_at = monotonic
        self.run_daily_jobs()

    def run_once(self, *, batch: int = 20) -> RunCounts:
        """Deliver everything due now; messages put off for a retry wait for a later run."""
        counts = RunCounts()
        while True:
            with self.sessions() as session, session.begin():
                writing(session)
                claimed = claim(
                    session,
                    worker=self.name,
                    now=self.clock(),
                    lease_seconds=self.settings.outbox_lease_seconds,
                    limit=batch,
                )
            if not claimed:
                return counts
            for item in claimed:
                with self.sessions() as session, session.begin():
                    writing(session)
                    still_ours = renew_lease(
                        session,
                        claimed=item,
                        worker=self.name,
                        now=self.clock(),
                        lease_seconds=self.settings.outbox_lease_seconds,
                    )
                if not still_ours:
                    continue  # another worker took it over after our lease ran out
                error = self._send(item.email)
                status = self._record(item, error)
                if status == SENT:
                    counts.sent += 1
                elif status == FAILED:
                    counts.failed += 1
                    # The reply text can quote an address: log the code only.
                    log.warning(
                        "message %s failed for good (SMTP code %s)",
                        item.id,
                        error.smtp_code if error else None,
                    )
                elif status == GONE:
                    # Erased while we sent it: whatever copy the backend keeps goes too.
                    self.sender.forget(item.email.message_id)
                elif status != LOST_LEASE:
                    counts.retried += 1

    def _record(self, item: Claimed, error: DeliveryError | None) -> str:
        """Store the outcome, retrying briefly if the database is busy.

        Once the mail server has accepted a message, losing the record of it would send
        it again after the lease; a few retries make that much less likely.
        """
        for attempt in range(RECORD_ATTEMPTS):
            try:
                with self.sessions() as session, session.begin():
                    writing(session)
                    return record_outcome(
                        session,
                        claimed=item,
                        worker=self.name,
                        now=self.clock(),
                        error=error,
                        policy=self.policy,
                        rng=self.rng,
                        on_bounce=self.on_bounce,
                    )
            except OperationalError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                log.warning("could not record message %s yet; trying again", item.id)
                time.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def _send(self, email: OutgoingEmail) -> DeliveryError | None:
        try:
            self.sender.send(email)
        except DeliveryError as error:
            return error
        except Exception as error:  # a bug or a bad message must not stop the worker
            log.exception("unexpected error sending a message")
            return DeliveryError(f"unexpected error: {error.__class__.__name__}", transient=False)
        return None

    def run_forever(self, stop: threading.Event) -> None:
        """Poll until `stop` is set; database or mail server trouble only delays delivery."""
        log.info("email worker %s started", self.name)
        while not stop.is_set():
            try:
                counts = self.run_once()
                if self.daily_jobs:
                    self._maybe_run_daily_jobs()
            except DATABASE_UNAVAILABLE as error:
                # An outage or a restart: one line per try, not a traceback every 2 seconds.
                log.warning("email worker: database unavailable (%s)", type(error).__name__)
                counts = RunCounts()
            except Exception:
                log.exception("email worker run failed; trying again shortly")
                counts = RunCounts()
            if counts.sent or counts.retried or counts.failed:
                log.info("email worker: %s", counts)
            stop.wait(self.settings.worker_poll_seconds)
        log.info("email worker %s stopped", self.name)


def start_in_thread(worker: Worker) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=worker.run_forever, args=(stop,), name="email-worker", daemon=True
    )
    thread.start()
    return thread, stop
