"""Imports from the admin area: upload ClinicalTrials.gov JSON, or fetch from the API.

This module owns the admin pages that start an import and show its report, and the
background runner that does the work. An import is the same code as the command line's
`trialfinder import-ctgov` / `fetch-ctgov` (`read_records` or `fetch_records`, then
`import_records`), so a study imported here is checked and stored exactly like one
imported there.

Why a background thread: a large file or a long fetch takes minutes, far longer than a
request should. The request only validates the input, stores the upload in a temporary
file (copied in chunks, never read whole into memory), records an `ImportJob` ("queued")
and commits; after the response is sent, `start_job` hands the job to a thread with its
own sessions. The runner commits after every batch and writes the job's counts in the
same transaction, so the job page (which refreshes itself while the job runs) shows
progress, and batches written before a failure stay written, as on the command line.
It reads each batch before it opens the batch's transaction, so on SQLite the write lock
is never held while a file is read or the API is waited for.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.admin.auth import Admin, audit
from app.admin.models import AdminUser, ImportJob
from app.admin.pages import Id, now, render
from app.config import Settings
from app.ctgov.client import FetchError, FetchQuery, fetch_records
from app.ctgov.importer import (
    BATCH_SIZE,
    JSON_SUFFIXES,
    ImportReport,
    RawRecord,
    import_records,
    read_records,
)
from app.db import write_transaction, writing
from app.deps import DbSession
from app.params import whole_number
from app.studies.rules import NCT_ID, STATUSES

router = APIRouter(prefix="/admin", include_in_schema=False)
log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MAX_REPORTED = 1000  # rejections kept on a job; the count covers them all
MAX_NCT_IDS = 10_000
MAX_STUDIES = 1_000_000
RECENT_JOBS = 50
COPY_CHUNK = 1024 * 1024
MAX_ERROR_CHARS = 1000
UPLOAD_PREFIX = "trialfinder-import-"
_SEPARATORS = re.compile(r"[\s,;]+")


# --- the pages -------------------------------------------------------------------------


def _recent_jobs(session: Session) -> list[ImportJob]:
    return list(
        session.scalars(
            select(ImportJob)
            .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
            .limit(RECENT_JOBS)
        )
    )


def _imports_page(
    request: Request,
    session: Session,
    admin: AdminUser,
    *,
    error: str | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "admin": admin,
        "jobs": _recent_jobs(session),
        "error": error,
        "form": {"nct_ids": "", "condition": "", "statuses": [], "max_studies": ""} | (form or {}),
        "statuses": STATUSES,
        "suffixes": JSON_SUFFIXES,
        "max_megabytes": MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "admin/imports.html", context, status_code=status_code)


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, admin: Admin, session: DbSession) -> Response:
    return _imports_page(request, session, admin)


class UploadRefused(ValueError):
    """The uploaded file cannot be imported; the message is for the administrator."""


def _display_name(filename: str | None) -> str:
    """The file's own name (no client-side folders), printable and of a sensible length."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200]


def _save_upload(upload: UploadFile, suffix: str) -> tuple[Path, int]:
    """Copy the upload to a temporary file of our own, in chunks, stopping at the cap."""
    handle, name = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=suffix)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := upload.file.read(COPY_CHUNK):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise UploadRefused(
                        f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. "
                        "Split it, or import it with `trialfinder import-ctgov` on the server."
                    )
                out.write(chunk)
        if size == 0:
            raise UploadRefused("The file is empty.")
    except BaseException:
        _remove(path)
        raise
    return path, size


def _remove(path: str | Path) -> None:
    try:
        Path(path).unlink(missing_ok=True)
    except OSError:
        log.warning("could not delete an uploaded import file")


def _queue_job(
    request: Request, session: Session, background: BackgroundTasks, job: ImportJob
) -> Response:
    """Record the job and its audit event, commit, and start it once the response is out."""
    with write_transaction(session):
        session.add(job)
        session.flush()
        _audit_job(session, job, "import.start", job.created_at, description=job.description)
    # Committed by now, so the thread finds the job.
    background.add_task(
        start_job, request.app.state.sessionmaker, request.app.state.settings, job.id
    )
    return RedirectResponse(f"/admin/imports/{job.id}", status_code=303)


def _new_job(actor: str, kind: str, description: str, parameters: dict[str, Any]) -> ImportJob:
    """A queued job; its counts start at zero (the model's defaults)."""
    return ImportJob(
        created_at=now(),
        actor=actor,
        kind=kind,
        description=description,
        status=QUEUED,
        parameters=parameters,
    )


@router.post("/imports/upload", response_class=HTMLResponse)
def upload(
    request: Request,
    admin: Admin,
    session: DbSession,
    background: BackgroundTasks,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    name = _display_name(file.filename if file is not None else None)
    suffix = Path(name).suffix.lower()
    if file is None or not name:
        return _imports_page(request, session, admin, error="Choose a file.", status_code=422)
    if suffix not in JSON_SUFFIXES:
        message = (
            f"“{name}” is not a JSON or JSON Lines file: "
            f"the name must end in {', '.join(JSON_SUFFIXES)}."
        )
        return _imports_page(request, session, admin, error=message, status_code=422)
    try:
        path, size = _save_upload(file, suffix)
    except UploadRefused as refused:
        return _imports_page(request, session, admin, error=str(refused), status_code=422)
    try:
        parameters = {"path": str(path), "filename": name, "size": size}
        job = _new_job(admin.email, "upload", name, parameters)
        return _queue_job(request, session, background, job)
    except BaseException:
        _remove(path)
        raise


@dataclass(frozen=True)
class FetchForm:
    nct_ids: tuple[str, ...]
    condition: str | None
    statuses: tuple[str, ...]
    max_studies: int | None

    def query(self) -> FetchQuery:
        return FetchQuery(
            condition=self.condition,
            nct_ids=self.nct_ids,
            statuses=self.statuses,
            max_studies=self.max_studies,
        )

    def describe(self) -> str:
        parts = []
        if self.condition:
            parts.append(f"condition “{self.condition}”")
        if self.nct_ids:
            shown = ", ".join(self.nct_ids[:5])
            more = f" and {len(self.nct_ids) - 5:,} more" if len(self.nct_ids) > 5 else ""
            parts.append(f"NCT IDs {shown}{more}")
        if self.statuses:
            parts.append("statuses " + ", ".join(self.statuses))
        if self.max_studies is not None:
            parts.append(f"at most {self.max_studies:,} studies")
        return "ClinicalTrials.gov API: " + "; ".join(parts)


def parse_fetch_form(
    nct_ids: str, condition: str, statuses: Iterable[str], max_studies: str
) -> FetchForm:
    """The fetch form's values checked; ValueError with a message for the administrator."""
    ids = [value.upper() for value in _SEPARATORS.split(nct_ids) if value]
    bad = [value for value in ids if not NCT_ID.match(value)]
    if bad:
        shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5:,} more" if len(bad) > 5 else "")
        raise ValueError(f"Not an NCT ID (NCT followed by 8 digits): {shown}.")
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_NCT_IDS:
        raise ValueError(f"Please fetch at most {MAX_NCT_IDS:,} NCT IDs at a time.")
    text = " ".join(condition.split())
    if "\x00" in text:
        raise ValueError("Remove the invisible control characters from the condition.")
    if not text and not ids:
        raise ValueError("Enter NCT IDs, or a condition to search for.")
    unknown = [s for s in statuses if s not in STATUSES]
    if unknown:
        raise ValueError(f"Unknown status: {', '.join(unknown[:5])}.")
    limit: int | None = None
    if max_studies.strip():
        limit = whole_number(max_studies.strip().replace(",", ""), maximum=MAX_STUDIES)
        if not limit:
            raise ValueError(
                f"“At most” must be a whole number from 1 to {MAX_STUDIES:,}, or left empty."
            )
    form = FetchForm(tuple(ids), text or None, tuple(dict.fromkeys(statuses)), limit)
    form.query()  # the client's own checks: a job never starts with a query it refuses
    return form


@router.post("/imports/fetch", response_class=HTMLResponse)
def fetch(
    request: Request,
    admin: Admin,
    session: DbSession,
    background: BackgroundTasks,
    nct_ids: Annotated[str, Form(max_length=200_000)] = "",
    condition: Annotated[str, Form(max_length=500)] = "",
    status: Annotated[list[str] | None, Form()] = None,
    max_studies: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    statuses = [s.strip().upper() for s in status or [] if s.strip()]
    try:
        form = parse_fetch_form(nct_ids, condition, statuses, max_studies)
    except ValueError as invalid:
        values = {
            "nct_ids": nct_ids,
            "condition": condition,
            "statuses": statuses,
            "max_studies": max_studies,
        }
        return _imports_page(
            request, session, admin, error=str(invalid), form=values, status_code=422
        )
    parameters = {
        "nct_ids": list(form.nct_ids),
        "condition": form.condition,
        "statuses": list(form.statuses),
        "max_studies": form.max_studies,
    }
    job = _new_job(admin.email, "fetch", form.describe(), parameters)
    return _queue_job(request, session, background, job)


@router.get("/imports/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: Id, admin: Admin, session: DbSession) -> Response:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise HTTPException(status_code=404)
    active = job.status in (QUEUED, RUNNING)
    took = (
        job.finished_at - job.started_at
        if job.finished_at is not None and job.started_at is not None
        else None
    )
    context = {
        "admin": admin,
        "job": job,
        "active": active,
        "took": _duration(took) if took is not None else None,
    }
    response = render(request, "admin/import_job.html", context)
    if active:
        response.headers["Refresh"] = "3"
    return response


def _duration(delta: dt.timedelta) -> str:
    seconds = max(0, round(delta.total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min {seconds} s"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


# --- the background runner -------------------------------------------------------------


def start_job(sessions: sessionmaker[Session], settings: Settings, job_id: Id) -> threading.Thread:
    """Run the job in a thread of its own (named `import-job-<id>`) and return the thread."""
    thread = threading.Thread(
        target=run_job, args=(sessions, settings, job_id), name=f"import-job-{job_id}", daemon=True
    )
    thread.start()
    return thread


@dataclass
class _Totals:
    """The job's report so far: counts of everything, the first MAX_REPORTED rejections."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def plus(self, part: ImportReport) -> _Totals:
        room = MAX_REPORTED - len(self.rejections)
        more = [
            {"source": r.source, "position": r.position, "nct_id": r.nct_id, "reason": r.reason}
            for r in part.rejected[: max(room, 0)]
        ]
        return _Totals(
            self.inserted + part.inserted,
            self.updated + part.updated,
            self.unchanged + part.unchanged,
            self.rejected + len(part.rejected),
            self.rejections + more,
        )

    def store(self, job: ImportJob) -> None:
        job.inserted, job.updated, job.unchanged = self.inserted, self.updated, self.unchanged
        job.rejected, job.rejections = self.rejected, list(self.rejections)


def _batches(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _records(job: ImportJob, settings: Settings) -> Iterator[RawRecord]:
    """The job's records: its uploaded file (named as uploaded), or the API's answers."""
    parameters = job.parameters
    if job.kind == "upload":
        shown = str(parameters.get("filename") or "upload")
        for raw in read_records([str(parameters["path"])]):
            yield RawRecord(shown, raw.position, raw.data, raw.error)
        return
    query = FetchQuery(
        condition=parameters.get("condition"),
        nct_ids=tuple(parameters.get("nct_ids") or ()),
        statuses=tuple(parameters.get("statuses") or ()),
        max_studies=parameters.get("max_studies"),
    )
    yield from fetch_records(settings, query)


def _error_text(exc: BaseException) -> str:
    """One line saying what went wrong (a FetchError's message is written for this)."""
    lines = str(exc).strip().splitlines()
    if isinstance(exc, FetchError) and lines:
        return lines[0][:MAX_ERROR_CHARS]
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text[:MAX_ERROR_CHARS]


def run_job(sessions: sessionmaker[Session], settings: Settings, job_id: Id) -> None:
    """Run a queued import to the end; never raises (it runs in a thread of its own).

    The log names the job and the kind of error only; the job row holds the details.
    """
    try:
        _run(sessions, settings, job_id)
    except Exception as exc:
        log.error("import job %d: the runner failed (%s)", job_id, type(exc).__name__)
        try:
            _mark_failed(sessions, job_id, exc)
        except Exception as again:
            log.error(
                "import job %d: could not record the failure (%s)", job_id, type(again).__name__
            )


def _audit_job(
    session: Session, job: ImportJob, action: str, when: dt.datetime, **details: object
) -> None:
    """An import's start or finish in the audit log, in the name of who started it."""
    target = f"import_job:{job.id}"
    audit(
        session, actor=job.actor, action=action, now=when, target=target, kind=job.kind, **details
    )


def _mark_failed(sessions: sessionmaker[Session], job_id: Id, exc: BaseException) -> None:
    with sessions() as session:
        writing(session)
        job = session.get(ImportJob, job_id)
        if job is None or job.status in (DONE, FAILED):
            return
        job.status, job.error, job.finished_at = FAILED, _error_text(exc), now()
        _audit_job(session, job, "import.finish", job.finished_at, status=FAILED)
        session.commit()


def _run(sessions: sessionmaker[Session], settings: Settings, job_id: Id) -> None:
    with sessions() as session:
        writing(session)
        job = session.get(ImportJob, job_id)
        if job is None or job.status != QUEUED:
            log.warning("import job %d: not queued, not run", job_id)
            return
        started = now()
        job.status, job.started_at = RUNNING, started
        session.commit()
        upload = job.parameters.get("path") if job.kind == "upload" else None
        totals = _Totals()
        status, error = DONE, None
        try:
            # Each batch is read before its transaction begins (see the module docstring).
            for batch in _batches(_records(job, settings), BATCH_SIZE):
                writing(session)
                part = import_records(session, batch, now=started)
                after = totals.plus(part)
                after.store(job)
                session.commit()
                totals = after
        except Exception as exc:
            session.rollback()
            status, error = FAILED, _error_text(exc)
            log.warning("import job %d failed (%s)", job_id, type(exc).__name__)
        finally:
            if upload:
                _remove(upload)
        writing(session)
        job = session.get(ImportJob, job_id)
        if job is None:
            return
        finished = now()
        totals.store(job)
        job.status, job.error, job.finished_at = status, error, finished
        counts = {k: getattr(totals, k) for k in ("inserted", "updated", "unchanged", "rejected")}
        _audit_job(session, job, "import.finish", finished, status=status, **counts)
        session.commit()
        log.info("import job %d %s", job_id, status)
