"""Import ClinicalTrials.gov API v2 study JSON: read every accepted form, upsert by NCT ID.

Forms read (`trialfinder import-ctgov`): one study object, a list of them, a page
(`{"studies": [...], "nextPageToken": ...}`) or JSON Lines; directories are walked and
`-` is standard input. A bad record is reported with where it was found and the rest
still load. Re-import is idempotent: a study whose extracted fields hash the same is not
rewritten, and sites that disappeared from a listing are removed while the ones that
remain keep their ids (contact requests refer to them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.ctgov.schemas import RecordError, SiteRecord, StudyRecord, parse_study
from app.studies.indexing import add_terms, indexed_text, indexed_text_of
from app.studies.models import Site, Study
from app.studies.text import normalize

BATCH_SIZE = 500
# Study fields an administrator may edit and an import keeps (Study.admin_overrides).
EDITABLE_FIELDS = frozenset(
    {
        "brief_title",
        "official_title",
        "brief_summary",
        "overall_status",
        "conditions",
        "keywords",
        "eligibility_criteria",
        "sex",
        "min_age",
        "max_age",
        "min_age_years",
        "max_age_years",
        "healthy_volunteers",
    }
)
# Inserts go through Core: the ORM's bulk path costs more than the database work here.
STUDIES = cast(Table, Study.__table__)
SITES = cast(Table, Site.__table__)
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class Rejection:
    """A record that was not imported, and where it was found."""

    source: str
    position: str
    nct_id: str | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}, {self.position}" if self.position else self.source
        who = f" {self.nct_id}" if self.nct_id else ""
        return f"{where}:{who} {self.reason}"


@dataclass
class ImportReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.inserted + self.updated + self.unchanged + len(self.rejected)

    def summary(self) -> str:
        return (
            f"inserted {self.inserted}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {len(self.rejected)}"
        )


@dataclass(frozen=True)
class RawRecord:
    """One study object as read, with where it came from (or why it could not be read)."""

    source: str
    position: str
    data: Any = None
    error: str | None = None


# --- reading ---------------------------------------------------------------------------


def _records_from_lines(lines: Iterable[str], source: str) -> Iterator[RawRecord]:
    """JSON Lines, read lazily so a file of any size streams through in batches."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield RawRecord(source, f"line {number}", json.loads(line))
        except json.JSONDecodeError as exc:
            yield RawRecord(source, f"line {number}", error=f"invalid JSON: {exc.msg}")


def _first_line_is_json(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        json.loads(first)
    except json.JSONDecodeError:
        return False
    return True


def _records_from_text(text: str, source: str) -> Iterator[RawRecord]:
    """One JSON document (a study, a list, a page), or JSON Lines without the suffix."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # Not one JSON document. If its first line is a JSON document by itself, it is
        # JSON Lines with a broken line, which the line reader reports precisely;
        # otherwise it is one broken document (pretty-printed, say): one error.
        if _first_line_is_json(text):
            yield from _records_from_lines(text.splitlines(), source)
        else:
            yield RawRecord(source, f"line {exc.lineno}", error=f"invalid JSON: {exc.msg}")
        return
    yield from _records_from_document(doc, source)


def _records_from_document(doc: Any, source: str) -> Iterator[RawRecord]:
    if isinstance(doc, dict) and "studies" in doc and "protocolSection" not in doc:
        studies = doc["studies"]
        if not isinstance(studies, list):
            yield RawRecord(source, "studies", error='"studies" is not a list')
            return
        for index, item in enumerate(studies):
            yield RawRecord(source, f"studies[{index}]", item)
    elif isinstance(doc, list):
        for index, item in enumerate(doc):
            yield RawRecord(source, f"index {index}", item)
    else:
        yield RawRecord(source, "", doc)


def _walk(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix.lower() in JSON_SUFFIXES:
                yield child
    else:
        yield path


def read_records(paths: Iterable[str], *, stdin: IO[str] | None = None) -> Iterator[RawRecord]:
    """Every study object in `paths` (files, directories, or "-" for standard input)."""
    for name in paths:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin
            yield from _records_from_text(stream.read(), "<stdin>")
            continue
        root = Path(name)
        if not root.exists():
            yield RawRecord(name, "", error="no such file or directory")
            continue
        for file in _walk(root):
            try:
                if file.suffix.lower() in (".jsonl", ".ndjson"):
                    # Undecodable bytes become U+FFFD, so a damaged line is reported
                    # as invalid JSON rather than ending the whole file.
                    with file.open(encoding="utf-8-sig", errors="replace") as handle:
                        yield from _records_from_lines(handle, str(file))
                else:
                    yield from _records_from_text(file.read_text(encoding="utf-8-sig"), str(file))
            except (OSError, UnicodeDecodeError) as exc:
                yield RawRecord(str(file), "", error=f"cannot read file: {exc}")


# --- writing ---------------------------------------------------------------------------


def _study_values(record: StudyRecord, digest: str, now: dt.datetime) -> dict[str, Any]:
    values = dict(vars(record))
    del values["sites"]
    values.update(indexed_text_of(record))
    values["source_hash"] = digest
    values["updated_at"] = now
    return values


def _merged(
    study_id: int, record: StudyRecord, digest: str, now: dt.datetime, edits: dict[str, Any] | None
) -> dict[str, Any]:
    """The registry's values with the administrator's edits on top, search text rebuilt."""
    values = {"id": study_id, **_study_values(record, digest, now)}
    if edits:
        values.update({k: v for k, v in edits.items() if k in EDITABLE_FIELDS})
        values.update(indexed_text(values))
    return values


def _site_values(site: SiteRecord, study_id: int, position: int) -> dict[str, Any]:
    return {**vars(site), "study_id": study_id, "position": position}


def site_key(site: SiteRecord | Site) -> str:
    """How imports recognise a site: its normalised facility and address."""
    return "|".join(_site_key(site))


def _site_key(site: SiteRecord | Site) -> tuple[str, ...]:
    return tuple(
        normalize(part or "")
        for part in (site.facility, site.city, site.state, site.zip, site.country)
    )


def record_hash(record: StudyRecord) -> str:
    """A digest of everything we keep: equal digests mean nothing to rewrite.

    Raises RecordError for a NUL character anywhere, which PostgreSQL cannot store.
    """
    payload = json.dumps(record, sort_keys=True, ensure_ascii=False, default=vars)
    if "\\u0000" in payload:
        raise RecordError("the record contains a NUL character", record.nct_id)
    return hashlib.sha256(payload.encode()).hexdigest()


def _sync_sites(
    session: Session, study_ids: dict[str, int], records: list[StudyRecord], now: dt.datetime
) -> None:
    """Make each study's sites equal to its record's, keeping ids of sites that remain.

    A new site is first seen `now`, and a site whose status changes entered it `now`:
    patient alerts tell their subscribers about sites from these times.
    """
    existing: dict[int, list[Site]] = {}
    # Sites an administrator added or edited are theirs: the import leaves them alone and
    # does not add the registry's copy of such a site beside it.
    managed: set[tuple[int, tuple[str, ...]]] = set()
    # populate_existing: the rows as they are now, even if this session saw them before.
    current = select(Site).where(Site.study_id.in_(study_ids.values()))
    for site in session.scalars(current.execution_options(populate_existing=True)):
        if site.admin_managed:
            managed.add((site.study_id, _site_key(site)))
            if site.registry_key:
                managed.add((site.study_id, tuple(site.registry_key.split("|"))))
        else:
            existing.setdefault(site.study_id, []).append(site)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    deletes: list[int] = []
    for record in records:
        study_id = study_ids[record.nct_id]
        pool: dict[tuple[str, ...], list[Site]] = {}
        for site in existing.get(study_id, []):
            pool.setdefault(_site_key(site), []).append(site)
        for position, new in enumerate(record.sites):
            if (study_id, _site_key(new)) in managed:
                continue
            values = _site_values(new, study_id, position)
            candidates = pool.get(_site_key(new))
            if candidates:
                old = candidates.pop(0)
                if any(getattr(old, k) != v for k, v in values.items()):
                    if old.status != values["status"]:
                        values["status_since"] = now  # newly in its status: alerts see it
                    updates.append({"id": old.id, **values})
            else:
                inserts.append({**values, "first_seen_at": now, "status_since": now})
        deletes.extend(site.id for sites in pool.values() for site in sites)
    if deletes:
        session.execute(delete(Site).where(Site.id.in_(deletes)))
    if updates:
        session.execute(update(Site), updates)
    if inserts:
        session.connection().execute(insert(SITES), inserts)


@dataclass(frozen=True)
class _Pending:
    """A parsed record waiting in a batch, with its digest and where it was read."""

    record: StudyRecord
    digest: str
    raw: RawRecord


def _write_batch(session: Session, batch: list[_Pending], now: dt.datetime) -> tuple[int, int, int]:
    """Upsert a batch; returns (inserted, updated, unchanged). Raises on a database error."""
    digests = {p.record.nct_id: p.digest for p in batch}
    records = [p.record for p in batch]
    rows = session.execute(
        select(
            Study.id, Study.nct_id, Study.source_hash, Study.admin_overrides, Study.overall_status
        ).where(Study.nct_id.in_(digests))
    ).all()
    known = {nct: (study_id, digest) for study_id, nct, digest, _, _ in rows}
    overrides = {nct: edits for _, nct, _, edits, _ in rows if edits}
    statuses = {nct: status for _, nct, _, _, status in rows}
    new = [r for r in records if r.nct_id not in known]
    changed = [r for r in records if r.nct_id in known and known[r.nct_id][1] != digests[r.nct_id]]
    unchanged = len(records) - len(new) - len(changed)
    if not new and not changed:
        return 0, 0, unchanged
    ids: dict[str, int] = {}
    if new:
        first_seen = {"imported_at": now, "first_seen_at": now, "status_since": now}
        values = [{**_study_values(r, digests[r.nct_id], now), **first_seen} for r in new]
        result = session.connection().execute(
            insert(STUDIES).returning(STUDIES.c.id, STUDIES.c.nct_id, sort_by_parameter_order=True),
            values,
        )
        ids.update({nct: study_id for study_id, nct in result.all()})
    if changed:
        # An administrator's edits win over the registry (see Study.admin_overrides).
        merged = [
            _merged(known[r.nct_id][0], r, digests[r.nct_id], now, overrides.get(r.nct_id))
            for r in changed
        ]
        for r, merged_values in zip(changed, merged, strict=True):
            if merged_values["overall_status"] != statuses[r.nct_id]:
                merged_values["status_since"] = now  # newly in its status: alerts see it
        session.execute(update(Study), merged)
        ids.update({r.nct_id: known[r.nct_id][0] for r in changed})
    _sync_sites(session, ids, new + changed, now)
    add_terms(session, new + changed)
    return len(new), len(changed), unchanged


def _write(session: Session, batch: list[_Pending], now: dt.datetime, report: ImportReport) -> None:
    """Write a batch; if the database refuses it, write record by record and reject the bad.

    The parser catches what it can, but the database has the last word (PostgreSQL
    refuses text a SQLite column accepts); one such record must not cost the others.
    """
    try:
        with session.begin_nested():
            counts = _write_batch(session, batch, now)
    except SQLAlchemyError:
        counts = (0, 0, 0)
        for pending in batch:
            try:
                with session.begin_nested():
                    one = _write_batch(session, [pending], now)
            except SQLAlchemyError as exc:
                reason = f"the database refused it: {_first_line(exc)}"
                report.rejected.append(
                    Rejection(
                        pending.raw.source, pending.raw.position, pending.record.nct_id, reason
                    )
                )
                continue
            counts = (counts[0] + one[0], counts[1] + one[1], counts[2] + one[2])
    report.inserted += counts[0]
    report.updated += counts[1]
    report.unchanged += counts[2]


def _first_line(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0][:200]


def import_records(
    session: Session,
    raw_records: Iterable[RawRecord],
    *,
    now: dt.datetime,
    after_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Parse and upsert every record; rejections are collected, never raised.

    `after_batch` runs after each batch is written (the command line commits there and
    draws its progress bar); this function itself never commits.
    """
    report = ImportReport()
    batch: dict[str, _Pending] = {}

    def flush() -> None:
        if batch:
            _write(session, list(batch.values()), now, report)
            batch.clear()
            if after_batch is not None:
                after_batch(report)

    for raw in raw_records:
        if raw.error is not None:
            report.rejected.append(Rejection(raw.source, raw.position, None, raw.error))
            continue
        try:
            record = parse_study(raw.data)
            digest = record_hash(record)
        except RecordError as exc:
            report.rejected.append(Rejection(raw.source, raw.position, exc.nct_id, exc.reason))
            continue
        if record.nct_id in batch:
            # The same study twice in one batch: write the first before reading the second.
            flush()
        batch[record.nct_id] = _Pending(record, digest, raw)
        if len(batch) >= BATCH_SIZE:
            flush()
    flush()
    return report
