"""Bursts of simultaneous contact-form submissions against real server processes.

Run with `python -m bench.contact_burst [--scenario NAME ...] [--repeat N] [--write-docs]`.

Each scenario builds a fresh database (SQLite under var/bench/, or a throwaway PostgreSQL
database), migrates it with the project's own migrations, imports a few fictional studies
through the importer, and starts the application as operators do: `trialfinder serve
--with-worker` for SQLite; two web processes (`trialfinder serve --workers 2`) plus a
separate `trialfinder worker` for PostgreSQL. Mail goes by
SMTP to a sink that runs in this process.

Every simulated patient first loads the contact form (its CSRF cookie and token; not
timed). Then all the submissions are released at the same moment, each on its own new
connection, and each is timed from the release to the end of its answer. The client is
asyncio with plain streams, one event loop, so it costs little CPU beside the servers on
the same machine (its CPU time is reported). Afterwards the database is read directly:
each patient's request stored once, two outbox rows per request; and the sink must receive
every queued Message-ID exactly once.

Scenarios:
  sqlite-200      200 simultaneous valid submissions, SQLite, one `serve --with-worker`.
  pg-200          200 simultaneous, PostgreSQL, two web processes and one worker process.
  pg-500          500 simultaneous, PostgreSQL, same layout; an answer other than 303 must
                  be 429 or 503 with Retry-After, and then nothing may be stored.
  sqlite-hostile  SQLite; 16 clients keep posting invalid forms (phone missing) to a study
                  with 5,000 sites while 50 valid submissions arrive, 5 at a time, one
                  group a second, at a normal study: their p95 must stay under 2 s.

Everything started is stopped, and every database and directory made is removed, also on
failure or Ctrl-C (`--keep` keeps the SQLite file and the server logs for inspection).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from aiosmtpd.smtp import SMTP
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from app.cli import upgrade_database
from app.config import Settings
from app.contact.models import ContactRequest
from app.ctgov.importer import RawRecord
from app.db import engine_for, make_engine
from app.demo.generator import CITIES
from app.demo.generator import nct_id as fictional_nct_id
from app.outbox.models import OutboxMessage
from app.studies.models import Site, Study
from bench.common import ROOT, WORK, free_port, load, machine, percentile, today, write_section

POSTGRES_URL = os.environ.get(
    "TRIALFINDER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
HOST = "127.0.0.1"
CLIENT_TIMEOUT = 60.0
ANSWER_WITHIN = 30.0  # every 303 within this, in the bursts of 200
HOSTILE_P95 = 2.0  # valid submissions' p95 while the hostile clients post
SEED = 9  # fictional NCT IDs NCT99…
NORMAL_STUDIES = 4
SITES_PER_STUDY = 3
BIG_STUDY_SITES = 5000
HOSTILE_CLIENTS = 16
HOSTILE_VALID = 50
HOSTILE_GROUP = 5
HOSTILE_INTERVAL = 1.0
PHONE = "+1 202-456-1111"
CSRF_TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"tf_csrf=([^;]+)")
MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)
CHAINED = ("The above exception", "During handling of the above exception")
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ ")
NCT_ID = re.compile(r"NCT\d{8}")
# The last line of a Python traceback, e.g. "sqlalchemy.exc.TimeoutError: QueuePool limit…".
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Exit))(?::\s*(.*))?$")


@dataclass(frozen=True)
class Scenario:
    name: str
    database: str  # "sqlite" or "postgresql"
    patients: int
    web_processes: int
    hostile: bool = False


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("sqlite-200", "sqlite", 200, 1),
        Scenario("pg-200", "postgresql", 200, 2),
        Scenario("pg-500", "postgresql", 500, 2),
        Scenario("sqlite-hostile", "sqlite", HOSTILE_VALID, 1, hostile=True),
    )
}


# -- fictional data ---------------------------------------------------------------------


def site_record(number: int, *, study: int) -> dict[str, Any]:
    """A recruiting site in one of the demo generator's cities, with a contact email."""
    city = CITIES[number % len(CITIES)]
    jitter = ((number * 37) % 101 - 50) / 1000
    location: dict[str, Any] = {
        "facility": f"Burst Test Clinic {study}-{number}",
        "city": city.city,
        "country": city.country,
        "status": "RECRUITING",
        "geoPoint": {"lat": round(city.lat + jitter, 5), "lon": round(city.lon - jitter, 5)},
        "contacts": [
            {
                "name": "Sam Example",
                "role": "CONTACT",
                "email": f"site-{study}-{number}@example.org",
            }
        ],
    }
    if city.state:
        location["state"] = city.state
    if city.zip:
        location["zip"] = city.zip
    return location


def study_record(index: int, *, sites: int) -> dict[str, Any]:
    """A fictional recruiting study in ClinicalTrials.gov API v2 shape."""
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": fictional_nct_id(SEED, index),
                "briefTitle": f"A fictional study for the contact burst benchmark, number {index}",
                "organization": {"fullName": "Example University Hospital"},
            },
            "statusModule": {
                "overallStatus": "RECRUITING",
                "startDateStruct": {"date": "2025-01"},
                "completionDateStruct": {"date": "2028-12", "type": "ESTIMATED"},
                "lastUpdatePostDateStruct": {"date": "2026-10-01", "type": "ACTUAL"},
            },
            "descriptionModule": {"briefSummary": "A fictional study used by a benchmark."},
            "conditionsModule": {"conditions": ["Asthma"], "keywords": []},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
            "eligibilityModule": {
                "eligibilityCriteria": (
                    "Inclusion Criteria:\n\n* Adults\n\nExclusion Criteria:\n\n* Pregnancy"
                ),
                "healthyVolunteers": False,
                "sex": "ALL",
                "minimumAge": "18 Years",
            },
            "contactsLocationsModule": {
                "centralContacts": [
                    {"name": "Pat Example", "role": "CONTACT", "email": "pat@example.org"}
                ],
                "locations": [site_record(n, study=index) for n in range(sites)],
            },
        },
        "hasResults": False,
    }


def records(*, big_study: bool) -> list[RawRecord]:
    studies = [study_record(i, sites=SITES_PER_STUDY) for i in range(NORMAL_STUDIES)]
    if big_study:
        studies.append(study_record(NORMAL_STUDIES, sites=BIG_STUDY_SITES))
    return [RawRecord("contact-burst", f"index {i}", s) for i, s in enumerate(studies)]


def letters(number: int) -> str:
    """A name part from a number, in letters only (names take no digits): 0 -> "Aa"."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = chr(97 + digit) + word
        if number == 0:
            break
    return "A" + word


@dataclass(frozen=True)
class Patient:
    number: int
    nct_id: str
    site_id: int
    email: str

    def form(self, token: str, *, valid: bool = True) -> bytes:
        fields = {
            "first_name": "Patient",
            "last_name": letters(self.number),
            "email": self.email,
            "phone": PHONE if valid else "",
            "site": str(self.site_id),
            "consent": "yes",
            "csrf_token": token,
            "leave_empty": "",
        }
        return urlencode(fields).encode()


def patients(url: str, count: int) -> list[Patient]:
    """`count` patients spread over the normal studies' sites, each with its own address."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sites = conn.execute(
                sa.select(Study.nct_id, Site.id)
                .join(Site, Site.study_id == Study.id)
                .where(Study.nct_id != fictional_nct_id(SEED, NORMAL_STUDIES))
                .order_by(Study.nct_id, Site.id)
            ).all()
    finally:
        engine.dispose()
    return [
        Patient(i, *sites[i % len(sites)], email=f"patient.{i}@example.com") for i in range(count)
    ]


# -- a small HTTP/1.1 client on asyncio streams ------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (see `error`)
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float  # from the release (or the request's start) to the end of the answer
    error: str | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    @property
    def label(self) -> str:
        return str(self.status) if self.status else f"no answer ({self.error})"


async def http(
    port: int,
    method: str,
    target: str,
    *,
    body: bytes = b"",
    cookie: str | None = None,
    started: float | None = None,
    timeout: float = CLIENT_TIMEOUT,
) -> Answer:
    """One request on a new connection (`Connection: close`), as a browser's first request."""
    started = time.perf_counter() if started is None else started
    lines = [f"{method} {target} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
    if cookie:
        lines.append(f"Cookie: tf_csrf={cookie}")
    if method == "POST":
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request)
            status, headers, content = await _read_response(reader)
    except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError) as exc:
        error = "timeout" if isinstance(exc, TimeoutError) else exc.__class__.__name__
        return Answer(0, [], b"", time.perf_counter() - started, error)
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    return Answer(status, headers, content, time.perf_counter() - started)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in head[1:] if ":" in line)
    ]
    fields = dict(headers)
    if "content-length" in fields:
        return status, headers, await reader.readexactly(int(fields["content-length"]))
    if "chunked" in fields.get("transfer-encoding", "").lower():
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readuntil(b"\r\n")
        return status, headers, b"".join(chunks)
    return status, headers, await reader.read()


@dataclass(frozen=True)
class Form:
    """A contact form as a browser holds it: the CSRF cookie and the token in the page."""

    patient: Patient
    port: int
    cookie: str
    token: str


async def get_form(patient: Patient, port: int, nct_id: str | None = None) -> Form:
    # With the site chosen, as from a study page's "Get in touch with this site": without
    # a place and a choice, a study with several sites first asks where the patient is.
    path = f"/studies/{nct_id or patient.nct_id}/contact?site={patient.site_id}&choose=1"
    answer = await http(port, "GET", path)
    token = CSRF_TOKEN.search(answer.body)
    cookie = CSRF_COOKIE.search(answer.header("set-cookie") or "")
    if answer.status != 200 or token is None or cookie is None:
        raise RuntimeError(f"could not load the contact form: {answer.label}")
    return Form(patient, port, cookie.group(1), token.group(1).decode())


async def get_forms(patients: Sequence[Patient], ports: Sequence[int]) -> list[Form]:
    """Load every patient's form, a few at a time (not timed); ports taken in turn."""
    limit = asyncio.Semaphore(8)

    async def one(i: int, patient: Patient) -> Form:
        async with limit:
            return await get_form(patient, ports[i % len(ports)])

    return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(patients))))


async def release_together(forms: Sequence[Form]) -> list[Answer]:
    """POST every form at the same moment; each timed from the release to its answer."""
    go = asyncio.Event()
    released = 0.0

    async def post(form: Form) -> Answer:
        await go.wait()
        return await http(
            form.port,
            "POST",
            f"/studies/{form.patient.nct_id}/contact",
            body=form.patient.form(form.token),
            cookie=form.cookie,
            started=released,
        )

    tasks = [asyncio.create_task(post(f)) for f in forms]
    await asyncio.sleep(0.2)  # every task is now waiting on the event
    released = time.perf_counter()
    go.set()
    return list(await asyncio.gather(*tasks))


# -- the SMTP sink -----------------------------------------------------------------------


class Sink:
    """aiosmtpd on this process's event loop, keeping only each message's Message-ID.

    It runs on the client's loop, not in a thread, so the client's timings do not wait for
    the GIL behind it; it parses nothing but the one header.
    """

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.without_id = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or b""
        match = MESSAGE_ID.search(content.split(b"\r\n\r\n", 1)[0])
        if match:
            self.received[match.group(1).decode()] += 1
        else:
            self.without_id += 1
        return "250 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="localhost", enable_SMTPUTF8=True, loop=loop), HOST, 0
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


# -- processes, databases, directories ---------------------------------------------------


class Processes:
    """Child processes, each in its own process group (uvicorn's workers join it)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.directory / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
                argv,
                cwd=self.directory,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, process))
        return process

    def pids(self) -> list[int]:
        """Every process in our children's process groups (Linux /proc; none elsewhere)."""
        groups = {p.pid for _, p in self.started}
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) in groups:
                    found.append(int(stat.parent.name))
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time of our children so far (Linux /proc), 0 elsewhere."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self) -> None:
        """SIGTERM to each process group; after 15 s, SIGKILL to whatever is left in them."""
        for _, process in self.started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, process in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        # A stuck server, uvicorn's worker processes, multiprocessing's resource tracker:
        # each by its id, found in one of our groups.
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for _, process in self.started:
            process.wait(10)

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def work_directory(name: str, *, keep: bool) -> Iterator[Path]:
    path = WORK / f"burst-{name}-{secrets.token_hex(4)}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        if keep:
            print(f"  kept {path.relative_to(ROOT)}")
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def database(scenario: Scenario, directory: Path) -> Iterator[str]:
    """A migrated database holding the fictional studies; PostgreSQL's is dropped after."""
    if scenario.database == "sqlite":
        url = f"sqlite:///{directory / 'burst.db'}"
        _fill(url, big_study=scenario.hostile)
        yield url
        return
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"trialfinder_bench_{secrets.token_hex(5)}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
            _fill(url, big_study=scenario.hostile)
            yield url
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


# One pair of keys for the run, given to this process and every server, so that all of
# them encrypt and look up personal data alike (a server's own development keys would not
# open what this process wrote).
KEYS = {"data_key": Fernet.generate_key().decode(), "lookup_key": Fernet.generate_key().decode()}


def _fill(url: str, *, big_study: bool) -> None:
    settings = Settings(database_url=url, _env_file=None, **KEYS)  # type: ignore[arg-type]
    upgrade_database(settings)
    try:
        report = load(settings, records(big_study=big_study))
    finally:
        engine_for(settings).dispose()
    assert not report.rejected, report.rejected


# Settings given with --set NAME=VALUE (without the TRIALFINDER_ prefix), for every server
# process: to compare thread and pool sizes, say.
SERVER_SETTINGS: dict[str, str] = {}


def server_env(url: str, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIALFINDER_")}
    env.update({f"TRIALFINDER_{k.upper()}": v for k, v in SERVER_SETTINGS.items()})
    env.update(
        {
            "TRIALFINDER_DATABASE_URL": url,
            "TRIALFINDER_EMAIL_BACKEND": "smtp",
            "TRIALFINDER_SMTP_HOST": HOST,
            "TRIALFINDER_SMTP_PORT": str(smtp_port),
            "TRIALFINDER_WORKER_POLL_SECONDS": "0.2",
            "TRIALFINDER_DATA_KEY": KEYS["data_key"],
            "TRIALFINDER_LOOKUP_KEY": KEYS["lookup_key"],
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def start_servers(scenario: Scenario, processes: Processes, env: dict[str, str]) -> int:
    """Start the web processes (and the worker); the port they listen on."""
    port = free_port()
    cli = [sys.executable, "-m", "app.cli"]
    serve = [*cli, "serve", "--host", HOST, "--port", str(port)]
    if scenario.database == "sqlite":
        processes.start("web", [*serve, "--with-worker"], env)
    else:
        processes.start("web", [*serve, "--workers", str(scenario.web_processes)], env)
        processes.start("worker", [*cli, "worker"], env)
    return port


async def wait_ready(processes: Processes, port: int, web_processes: int) -> None:
    """Until /healthz answers, every web process has started, and all of them are idle.

    Idle matters: each process builds its place index in the background when it starts,
    and that CPU must not be measured as the burst's.
    """
    deadline = time.monotonic() + 120
    while True:
        for name, process in processes.started:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {processes.log(name)[-3000:]}")
        answer = await http(port, "GET", "/healthz", timeout=2)
        started = processes.log("web").count("Application startup complete")
        if answer.status == 200 and started >= web_processes:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start within 120 s")
        await asyncio.sleep(0.2)
    await wait_idle(processes)


async def wait_idle(processes: Processes, *, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = processes.cpu_seconds()
        await asyncio.sleep(1)
        if processes.cpu_seconds() - before < 0.1:
            return


def log_errors(text: str) -> Counter[str]:
    """Logged errors with tracebacks, counted as "what was logged -> the final exception".

    An unhandled error in a request is logged twice, by the application's error page
    handler and by uvicorn ("Exception in ASGI application"); the second is left out.
    """
    found: Counter[str] = Counter()
    header, final, in_traceback = "", "", False

    def record() -> None:
        if "Exception in ASGI application" not in header:
            line = LOG_PREFIX.sub("", NCT_ID.sub("{nct_id}", header)).strip()
            found[f"{line[:80]} -> {final[:160]}"] += 1

    for line in text.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif not in_traceback:
            if line[:1] not in (" ", "\t", "") and not line.startswith(CHAINED):
                header = line  # not an exception group's indented part
        elif line[:1] in (" ", "\t") or line.startswith(CHAINED) or not line:
            continue
        elif EXCEPTION_LINE.match(line):
            final = line
        else:
            # The end of the traceback (an exception's message may run on: "[SQL: …]").
            if not line.startswith(("[SQL", "[parameters", "(Background")):
                record()
                in_traceback, header = False, line
    if in_traceback:
        record()
    return found


# -- checking what was stored and delivered ----------------------------------------------


@dataclass
class Stored:
    by_email: dict[str, list[str]]  # email -> public ids of its stored requests
    outbox_per_request: dict[str, int]  # public id -> outbox rows
    message_ids: list[str]


def read_stored(url: str) -> Stored:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            requests = conn.execute(
                sa.select(ContactRequest.id, ContactRequest.public_id, ContactRequest.email)
            ).all()
            outbox = conn.execute(
                sa.select(OutboxMessage.contact_request_id, OutboxMessage.message_id)
            ).all()
    finally:
        engine.dispose()
    public = {rid: pid for rid, pid, _ in requests}
    by_email: dict[str, list[str]] = {}
    for _, pid, email in requests:
        by_email.setdefault(email, []).append(pid)
    per_request = Counter(public.get(rid, "?") if rid else "?" for rid, _ in outbox)
    return Stored(
        by_email,
        {pid: per_request.get(pid, 0) for pid in public.values()},
        [mid for _, mid in outbox],
    )


async def settled(url: str, *, quiet_for: float, limit: float = 180) -> Stored:
    """The stored rows once their numbers have not changed for `quiet_for` seconds.

    A request whose client gave up may still be stored later; when some went unanswered,
    callers wait longer than the server's own timeouts (SQLite's busy timeout of 10 s,
    the connection pool's 30 s) so that it has had the chance.
    """
    deadline = time.monotonic() + limit
    last: tuple[int, int] | None = None
    steady_since = time.monotonic()
    while True:
        stored = read_stored(url)
        now = (len(stored.outbox_per_request), len(stored.message_ids))
        if now != last:
            last, steady_since = now, time.monotonic()
        elif time.monotonic() - steady_since >= quiet_for or time.monotonic() > deadline:
            return stored
        await asyncio.sleep(0.5)


async def delivered(sink: Sink, expected: set[str], *, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not expected <= set(sink.received) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1)  # room for a duplicate to arrive


# -- one run of a scenario ---------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    run: int
    patients: int
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    bad_outbox: int = 0
    expected_mail: int = 0
    delivered: int = 0
    delivered_twice: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    server_errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    load_before: float = 0.0  # the machine's 1-minute load average just before the burst

    @property
    def passed(self) -> bool:
        return not self.failures

    def latency(self) -> str:
        if not self.seconds:
            return "-"
        s = self.seconds
        return f"{percentile(s, 0.5):.2f} / {percentile(s, 0.95):.2f} / {max(s):.2f} s"


def check(
    scenario: Scenario,
    result: Result,
    answers: Sequence[Answer],
    forms: Sequence[Form],
    stored: Stored,
    sink: Sink,
) -> None:
    """Fill in the counts and the failures against the issue's acceptance."""
    result.statuses = Counter(a.label for a in answers)
    result.seconds = [a.seconds for a in answers]
    by_label: dict[str, list[float]] = {}
    for answer in answers:
        by_label.setdefault(answer.label, []).append(answer.seconds)
    result.notes.append(
        "answer times: "
        + ", ".join(f"{label} {min(t):.1f}-{max(t):.1f} s" for label, t in sorted(by_label.items()))
    )
    result.stored = sum(1 for f in forms if stored.by_email.get(f.patient.email))
    result.duplicates = sum(
        max(0, len(stored.by_email.get(f.patient.email, [])) - 1) for f in forms
    )
    result.bad_outbox = sum(1 for n in stored.outbox_per_request.values() if n != 2)
    expected = set(stored.message_ids)
    result.expected_mail = len(stored.message_ids)
    result.delivered = sum(1 for m in expected if sink.received[m] >= 1)
    result.delivered_twice = sum(n - 1 for n in sink.received.values() if n > 1)
    unknown = sum(n for m, n in sink.received.items() if m not in expected) + sink.without_id
    fail = result.failures.append

    not_303 = [(f, a) for f, a in zip(forms, answers, strict=True) if a.status != 303]
    wrong_target = 0
    for form, answer in zip(forms, answers, strict=True):
        own = stored.by_email.get(form.patient.email, [])
        location = urlsplit(answer.header("location") or "").path
        if answer.status == 303 and location.rsplit("/", 1)[-1] not in own:
            wrong_target += 1
    stored_anyway = Counter(a.label for f, a in not_303 if stored.by_email.get(f.patient.email))
    if stored_anyway:
        result.notes.append(
            "stored although the answer was not 303: "
            + ", ".join(f"{n} of the {label}" for label, n in sorted(stored_anyway.items()))
        )
    if scenario.name == "pg-500":
        refused = [
            a for _, a in not_303 if a.status in (429, 503) and a.header("retry-after") is not None
        ]
        others = len(not_303) - len(refused)
        if others:
            fail(f"{others} answers neither 303 nor 429/503 with Retry-After")
        refused_but_stored = sum(
            1 for f, a in not_303 if a.status in (429, 503) and stored.by_email.get(f.patient.email)
        )
        if refused_but_stored:
            fail(f"{refused_but_stored} refused with 429/503 but stored")
    elif not_303:
        fail(f"{len(not_303)} of {len(answers)} not answered 303")
    if scenario.hostile:
        p95 = percentile(result.seconds, 0.95)
        if p95 > HOSTILE_P95:
            fail(f"p95 {p95:.2f} s over {HOSTILE_P95:.0f} s")
    elif scenario.name != "pg-500":
        late = sum(1 for a in answers if a.status == 303 and a.seconds > ANSWER_WITHIN)
        if late:
            fail(f"{late} answered 303 after more than {ANSWER_WITHIN:.0f} s")
    answered_303 = sum(1 for a in answers if a.status == 303)
    stored_303 = sum(
        1
        for f, a in zip(forms, answers, strict=True)
        if a.status == 303 and stored.by_email.get(f.patient.email)
    )
    if stored_303 < answered_303:
        fail(f"{answered_303 - stored_303} answered 303 but nothing stored")
    if wrong_target:
        fail(f"{wrong_target} redirects do not point to the patient's own request")
    if result.duplicates:
        fail(f"{result.duplicates} requests stored twice")
    if result.bad_outbox:
        fail(f"{result.bad_outbox} stored requests without exactly 2 outbox rows")
    if result.delivered < len(expected):
        fail(f"{len(expected) - result.delivered} of {len(expected)} emails not delivered")
    if result.delivered_twice:
        fail(f"{result.delivered_twice} emails delivered twice")
    if unknown:
        fail(f"{unknown} emails delivered that the outbox does not hold")


async def run_scenario(scenario: Scenario, run: int, url: str, processes: Processes) -> Result:
    sink = Sink()
    await sink.start()
    result = Result(scenario.name, run, scenario.patients)
    try:
        env = server_env(url, sink.port)
        port = start_servers(scenario, processes, env)
        await wait_ready(processes, port, scenario.web_processes)
        people = patients(url, scenario.patients)
        forms = await get_forms(people, [port])
        await wait_idle(processes)
        result.load_before = os.getloadavg()[0]
        cpu_before, client_before = processes.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        if scenario.hostile:
            answers = await hostile(scenario, result, forms, port, url)
        else:
            answers = await release_together(forms)
        result.wall = time.perf_counter() - started
        result.server_cpu = processes.cpu_seconds() - cpu_before
        result.client_cpu = time.process_time() - client_before
        unanswered = any(a.status == 0 for a in answers)
        stored = await settled(url, quiet_for=35 if unanswered else 3)
        await delivered(sink, set(stored.message_ids), limit=60 + 0.1 * len(stored.message_ids))
        check(scenario, result, answers, forms, stored, sink)
    finally:
        processes.stop()
        await sink.stop()
        for name, _ in processes.started:
            result.server_errors.update(log_errors(processes.log(name)))
    return result


async def hostile(
    scenario: Scenario, result: Result, forms: Sequence[Form], port: int, url: str
) -> list[Answer]:
    """Valid submissions in small groups while clients post invalid forms to a huge study."""
    big = fictional_nct_id(SEED, NORMAL_STUDIES)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            big_site = conn.scalar(
                sa.select(sa.func.min(Site.id))
                .join(Study, Site.study_id == Study.id)
                .where(Study.nct_id == big)
            )
    finally:
        engine.dispose()
    assert big_site is not None
    attackers = [
        Patient(10_000 + i, big, big_site, f"invalid.{i}@example.com")
        for i in range(HOSTILE_CLIENTS)
    ]
    # A CSRF token is good for any study's form: the hostile clients take theirs from a
    # small study's page rather than load the huge one.
    small = forms[0].patient.nct_id
    attacker_forms = [await get_form(p, port, nct_id=small) for p in attackers]
    stop = asyncio.Event()
    invalid: list[Answer] = []

    async def attack(form: Form) -> None:
        body = form.patient.form(form.token, valid=False)
        while not stop.is_set():
            answer = await http(
                port, "POST", f"/studies/{big}/contact", body=body, cookie=form.cookie
            )
            invalid.append(answer)

    attacking = [asyncio.create_task(attack(f)) for f in attacker_forms]
    await asyncio.sleep(3)  # the hostile load is in full swing
    window_start = len(invalid)

    async def valid(form: Form, delay: float) -> Answer:
        await asyncio.sleep(delay)
        return await http(
            port,
            "POST",
            f"/studies/{form.patient.nct_id}/contact",
            body=form.patient.form(form.token),
            cookie=form.cookie,
        )

    began = time.perf_counter()
    answers = await asyncio.gather(
        *(valid(f, (i // HOSTILE_GROUP) * HOSTILE_INTERVAL) for i, f in enumerate(forms))
    )
    window = time.perf_counter() - began
    during = len(invalid) - window_start
    stop.set()
    await asyncio.wait(attacking, timeout=CLIENT_TIMEOUT + 5)
    for task in attacking:
        task.cancel()
    statuses = Counter(a.label for a in invalid)
    result.notes.append(
        f"invalid posts: {during} answered during the {window:.1f} s of valid submissions "
        f"({during / window:.1f}/s), {len(invalid)} in all: "
        + ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
    )
    return list(answers)


# -- reporting ---------------------------------------------------------------------------


def table(results: Sequence[Result]) -> str:
    rows = [
        "| scenario | run | answers | POST p50 / p95 / max | stored (twice) | "
        "emails delivered (twice) | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        answers = ", ".join(f"{n} x {s}" for s, n in sorted(r.statuses.items()))
        verdict = "pass" if r.passed else "**fail**: " + "; ".join(r.failures)
        rows.append(
            f"| {r.scenario} | {r.run} | {answers} | {r.latency()} | "
            f"{r.stored}/{r.patients} ({r.duplicates}) | "
            f"{r.delivered}/{r.expected_mail} ({r.delivered_twice}) | {verdict} |"
        )
    return "\n".join(rows)


def details(results: Sequence[Result]) -> str:
    lines = []
    for r in results:
        lines.append(
            f"- {r.scenario} run {r.run}: burst took {r.wall:.1f} s; "
            f"server CPU {r.server_cpu:.1f} s, client and sink CPU {r.client_cpu:.1f} s; "
            f"load average {r.load_before:.1f} just before"
        )
        lines += [f"  - {note}" for note in r.notes]
        for line, n in r.server_errors.most_common(6):
            lines.append(f"  - server log, {n} times: `{line}`")
    return "\n".join(lines)


def postgres_version() -> str:
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(sa.text("SHOW server_version"))).split()[0]
    except sa.exc.OperationalError:
        return "not reachable"
    finally:
        engine.dispose()


def commit() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    return "unknown"


def method() -> str:
    """How the figures are made, for docs/performance.md (one paragraph, wrapped)."""
    text = f"""Method: each scenario gets a fresh database, migrated by the project's migrations and
holding {NORMAL_STUDIES} fictional studies of {SITES_PER_STUDY} sites (plus, for the hostile
scenario, one of {BIG_STUDY_SITES:,} sites), imported through the importer. The
application runs as operators run it: `trialfinder serve --with-worker` on SQLite; on
PostgreSQL two web processes (`trialfinder serve --workers 2`) and a separate
`trialfinder worker`. Email goes by SMTP to a sink on 127.0.0.1. Every patient
first loads the contact form (CSRF cookie and token, not timed); then all the submissions
are released at the same moment, each on a new connection, from one asyncio client whose
CPU time is a small fraction of the servers'. Each is timed from the release to the end of
its answer; a request left unanswered counts the client's 60 s timeout. Then the database
is read directly, once its counts have been still for 3 s (35 s when some requests went
unanswered, longer than the server's own lock and pool timeouts): each patient's request
stored once, two outbox rows each; and the SMTP sink must receive every queued Message-ID
exactly once. In `sqlite-hostile`, {HOSTILE_CLIENTS} clients keep posting invalid forms
(phone missing) to the {BIG_STUDY_SITES:,}-site study while {HOSTILE_VALID} valid
submissions arrive at the normal studies, {HOSTILE_GROUP} at a time, one group a second.
Acceptance (from the issue): in the bursts of 200 every answer is a 303 within 30 s, each
request stored once and both its emails delivered once; at 500 no 500, and a 429 or 503
with Retry-After only when nothing was stored; under the hostile load the valid
submissions' p95 is under 2 s. The machine is shared, so the load average just before
each burst is given with it."""
    return textwrap.fill(" ".join(text.split()), 90, break_on_hyphens=False)


def docs_section(results: Sequence[Result], command: str) -> str:
    return f"""
{method()}

{table(results)}

{details(results)}

Measured {today()} on commit {commit()} on this project's 2-core machine ({machine()},
SQLite {sqlite3.sqlite_version}, PostgreSQL {postgres_version()}), `{command}`.
"""


# -- entry point -------------------------------------------------------------------------


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(scenario: Scenario, number: int, *, keep: bool) -> Result:
    with contextlib.ExitStack() as stack:
        directory = stack.enter_context(work_directory(scenario.name, keep=keep))
        url = stack.enter_context(database(scenario, directory))
        processes = Processes(directory)
        stack.callback(processes.stop)  # before the database is dropped
        return asyncio.run(run_scenario(scenario, number, url, processes))
    raise AssertionError("unreachable")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), help="repeatable; default: all"
    )
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="runs per scenario")
    parser.add_argument(
        "--write-docs", action="store_true", help="rewrite the burst section of docs/performance.md"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite files and server logs under var/bench/"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the servers, e.g. --set web_threads=40 (TRIALFINDER_WEB_THREADS)",
    )
    args = parser.parse_args(argv)
    for item in args.set:
        name, _, value = item.partition("=")
        SERVER_SETTINGS[name.strip().lower()] = value.strip()
    names: list[str] = args.scenario or list(SCENARIOS)
    if args.write_docs and set(names) != set(SCENARIOS):
        parser.error("--write-docs needs every scenario")
    signal.signal(signal.SIGTERM, _interrupt)
    results: list[Result] = []
    for name in names:
        for number in range(1, args.repeat + 1):
            print(f"{name}, run {number} ...", flush=True)
            result = run(SCENARIOS[name], number, keep=args.keep)
            results.append(result)
            print(table([result]).splitlines()[-1], flush=True)
    print()
    print(table(results))
    print()
    print(details(results))
    if args.write_docs:
        given = list(argv if argv is not None else sys.argv[1:])
        command = " ".join(["python -m bench.contact_burst", *given])
        write_section("burst", docs_section(results, command))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
