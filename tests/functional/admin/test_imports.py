"""Imports from the admin area through HTTP, on SQLite and PostgreSQL: upload, fetch, report.

Only fictional records from tests/factories.py. The import runs in a background thread;
the tests wait for that thread (it shares the test's database connection, so nothing
else touches the database while it runs) and then read the job page.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.admin import imports
from app.admin.auth import create_admin
from app.admin.models import AdminUser, AuditEvent, ImportJob
from app.config import Settings
from app.ctgov import client as ctgov_client
from app.studies.models import Study
from tests import factories as f
from tests.conftest import NOW

EMAIL = "imports-admin@example.org"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(settings: Settings, db_sessionmaker: Any) -> Iterator[TestClient]:
    """The admin test client (over https), with the imports router included if main lacks it."""
    from app.main import create_app

    app = create_app(settings)
    if not any(getattr(route, "path", None) == "/admin/imports" for route in app.routes):
        app.include_router(imports.router)
    app.state.sessionmaker = db_sessionmaker
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def admin(session: Session) -> AdminUser:
    user = create_admin(session, email=EMAIL, password=PASSWORD, now=NOW)
    session.commit()
    return user


def token(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: TestClient) -> None:
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def the_app(client: TestClient) -> FastAPI:
    return cast(FastAPI, client.app)


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def jsonl(*lines: Any) -> bytes:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()


def upload(client: TestClient, name: str, content: bytes, *, with_token: bool = True) -> Any:
    page = client.get("/admin/imports")
    data = {"csrf_token": token(page.text)} if with_token else {}
    return client.post(
        "/admin/imports/upload",
        data=data,
        files={"file": (name, content, "application/octet-stream")},
        follow_redirects=False,  # the job page is read once the import thread is done
    )


def fetch(client: TestClient, **fields: Any) -> Any:
    page = client.get("/admin/imports")
    return client.post(
        "/admin/imports/fetch",
        data={"csrf_token": token(page.text), **fields},
        follow_redirects=False,
    )


def job_id_of(response: Any) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/admin/imports/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def wait_for_job(client: TestClient, job_id: int, timeout: float = 60) -> Any:
    """The job page once the job has finished (waits for its thread, then reads the page)."""
    deadline = time.monotonic() + timeout
    while True:
        for thread in threading.enumerate():
            if thread.name == f"import-job-{job_id}":
                thread.join(max(0.0, deadline - time.monotonic()))
                assert not thread.is_alive(), "the import did not finish in time"
        page = client.get(f"/admin/imports/{job_id}")
        assert page.status_code == 200
        if "badge-state-done" in page.text or "badge-state-failed" in page.text:
            return page
        assert time.monotonic() < deadline, "the import did not finish in time"
        time.sleep(0.05)


def job(session: Session, job_id: int) -> ImportJob:
    session.expire_all()
    found = session.get(ImportJob, job_id)
    assert found is not None
    return found


def test_every_imports_route_needs_a_login(client: TestClient) -> None:
    routes = [r for r in imports.router.routes if isinstance(r, APIRoute)]
    assert len(routes) == 4
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods or ():
            response = client.request(method, path, follow_redirects=False)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/admin/login"), (method, path)
            else:
                assert response.status_code in (401, 403), (method, path, response.status_code)


def test_an_upload_is_imported_in_the_background_with_a_per_record_report(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    good = [f.study(), f.study(), f.study()]
    broken = f.study()
    del broken["protocolSection"]["identificationModule"]["briefTitle"]
    content = jsonl(good[0], good[1], broken, good[2])
    log_in(client)

    first = job_id_of(upload(client, "fictional-studies.jsonl", content))
    page = wait_for_job(client, first)
    assert "badge-state-done" in page.text
    done = job(session, first)
    assert (done.inserted, done.updated, done.unchanged, done.rejected) == (3, 0, 0, 1)
    assert done.actor == EMAIL
    assert done.started_at is not None
    assert done.finished_at is not None
    assert done.rejections == [
        {
            "source": "fictional-studies.jsonl",
            "position": "line 3",
            "nct_id": nct(broken),
            "reason": "the study has no title",
        }
    ]
    assert "line 3" in page.text
    assert nct(broken) in page.text
    assert "the study has no title" in page.text
    assert 'http-equiv="refresh"' not in page.text  # finished: no more refreshing
    assert "Refresh" not in page.headers
    stored = session.scalars(select(Study.nct_id).where(Study.nct_id.in_(map(nct, good)))).all()
    assert sorted(stored) == sorted(map(nct, good))
    assert not Path(done.parameters["path"]).exists()  # the uploaded copy is gone

    again = job_id_of(upload(client, "fictional-studies.jsonl", content))
    wait_for_job(client, again)
    second = job(session, again)
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, 3, 1)

    listing = client.get("/admin/imports")
    assert listing.status_code == 200
    assert listing.text.index(f"/admin/imports/{again}") < listing.text.index(
        f"/admin/imports/{first}"
    )  # newest first
    assert "fictional-studies.jsonl" in listing.text

    events = session.scalars(
        select(AuditEvent).where(AuditEvent.target == f"import_job:{first}").order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["import.start", "import.finish"]
    assert all(e.actor == EMAIL for e in events)
    assert events[1].details["status"] == "done"
    assert events[1].details["inserted"] == 3
    assert events[1].details["rejected"] == 1


def test_a_json_page_document_is_read_like_the_command_line_reads_it(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    studies = [f.study(), f.study()]
    log_in(client)
    job_id = job_id_of(upload(client, "page.json", json.dumps({"studies": studies}).encode()))
    wait_for_job(client, job_id)
    done = job(session, job_id)
    assert (done.status, done.inserted, done.rejected) == ("done", 2, 0)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("studies.csv", b"nct_id\nNCT98000001\n", "is not a JSON or JSON Lines file"),
        ("studies.jsonl", b"", "The file is empty."),
        ("", b"", "Choose a file."),  # what a browser sends when no file was chosen
    ],
)
def test_bad_uploads_are_refused_with_a_message(
    client: TestClient,
    session: Session,
    admin: AdminUser,
    name: str,
    content: bytes,
    message: str,
) -> None:
    log_in(client)
    response = upload(client, name, content)
    assert response.status_code == 422
    assert message in response.text
    assert 'name="csrf_token"' in response.text  # the form is there to try again
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_no_file_at_all_is_refused(client: TestClient, session: Session, admin: AdminUser) -> None:
    log_in(client)
    page = client.get("/admin/imports")
    response = client.post("/admin/imports/upload", data={"csrf_token": token(page.text)})
    assert response.status_code == 422
    assert "Choose a file." in response.text


def test_a_file_over_the_size_cap_is_refused(
    client: TestClient, session: Session, admin: AdminUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 1000)
    monkeypatch.setattr(imports, "COPY_CHUNK", 256)
    log_in(client)
    response = upload(client, "big.jsonl", jsonl(*[f.study() for _ in range(3)]))
    assert response.status_code == 422
    assert "larger than" in response.text
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_imports_need_the_csrf_token(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    log_in(client)
    response = upload(client, "studies.jsonl", jsonl(f.study()), with_token=False)
    assert response.status_code == 403
    response = client.post("/admin/imports/fetch", data={"nct_ids": "NCT98000001"})
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "Enter NCT IDs, or a condition to search for."),
        ({"nct_ids": "NCT98000001, NCT123"}, "Not an NCT ID (NCT followed by 8 digits): NCT123"),
        ({"condition": "asthma", "max_studies": "0"}, "must be a whole number"),
        ({"condition": "asthma", "max_studies": "ten"}, "must be a whole number"),
        ({"condition": "asthma", "status": "SLEEPING"}, "Unknown status: SLEEPING"),
    ],
)
def test_bad_fetch_forms_are_refused_with_a_message(
    client: TestClient,
    session: Session,
    admin: AdminUser,
    fields: dict[str, str],
    message: str,
) -> None:
    log_in(client)
    response = fetch(client, **fields)
    assert response.status_code == 422
    assert message in response.text
    if "condition" in fields:
        assert f'value="{fields["condition"]}"' in response.text  # what was typed is kept
    assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


class FakeApi:
    """A local stand-in for ClinicalTrials.gov API v2 on 127.0.0.1."""

    def __init__(self, studies: list[dict[str, Any]], *, status: int = 200) -> None:
        self.studies = studies
        self.status = status
        self.seen: list[dict[str, list[str]]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                api.seen.append(query)
                if api.status != 200:
                    self.send_response(api.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                wanted = set(",".join(query.get("filter.ids", [""])).split(","))
                found = [s for s in api.studies if nct(s) in wanted]
                body = json.dumps({"studies": found}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/v2"

    def __enter__(self) -> FakeApi:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def point_at(client: TestClient, settings: Settings, api: FakeApi) -> None:
    the_app(client).state.settings = settings.model_copy(update={"ctgov_api_url": api.url})


def test_fetching_nct_ids_imports_them_and_reports_the_unknown_one(
    client: TestClient, session: Session, settings: Settings, admin: AdminUser
) -> None:
    known = [f.study(), f.study()]
    missing = f.next_nct_id()
    with FakeApi(known) as api:
        point_at(client, settings, api)
        log_in(client)
        ids = f"{nct(known[0])},{nct(known[1]).lower()}\n{missing}"
        job_id = job_id_of(fetch(client, nct_ids=ids))
        page = wait_for_job(client, job_id)
    done = job(session, job_id)
    assert (done.status, done.kind, done.inserted, done.rejected) == ("done", "fetch", 2, 1)
    assert done.parameters["nct_ids"] == [nct(known[0]), nct(known[1]), missing]
    assert done.rejections[0]["position"] == missing
    assert done.rejections[0]["reason"] == ctgov_client.NOT_FOUND
    assert ctgov_client.NOT_FOUND in page.text
    assert api.seen[0]["filter.ids"] == [f"{nct(known[0])},{nct(known[1])},{missing}"]
    assert session.scalar(select(func.count()).select_from(Study)) == 2
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.target == f"import_job:{job_id}")
    ).all()
    assert sorted(actions) == ["import.finish", "import.start"]


def test_a_fetch_the_api_keeps_refusing_fails_honestly(
    client: TestClient,
    session: Session,
    settings: Settings,
    admin: AdminUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ctgov_client.CtgovClient, "_delay", lambda self, attempt: 0.0)
    with FakeApi([], status=500) as api:
        point_at(client, settings, api)
        log_in(client)
        job_id = job_id_of(
            fetch(
                client,
                condition="fictional condition",
                status=["RECRUITING", "NOT_YET_RECRUITING"],
                max_studies="5",
            )
        )
        page = wait_for_job(client, job_id)
    failed = job(session, job_id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert "gave up after 5 tries" in failed.error
    assert "HTTP 500" in failed.error
    assert failed.finished_at is not None
    assert len(api.seen) == 5
    assert api.seen[0]["query.cond"] == ["fictional condition"]
    assert api.seen[0]["filter.overallStatus"] == ["RECRUITING,NOT_YET_RECRUITING"]
    assert api.seen[0]["pageSize"] == ["5"]
    assert "The import failed" in page.text
    assert "HTTP 500" in page.text
    finish = session.scalars(
        select(AuditEvent).where(
            AuditEvent.target == f"import_job:{job_id}", AuditEvent.action == "import.finish"
        )
    ).one()
    assert finish.details["status"] == "failed"


def test_a_running_job_page_refreshes_itself(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    running = ImportJob(
        created_at=NOW,
        started_at=NOW,
        actor=EMAIL,
        kind="upload",
        description="fictional.jsonl",
        status="running",
        parameters={},
        inserted=500,
        updated=0,
        unchanged=0,
        rejected=0,
        rejections=[],
    )
    session.add(running)
    session.commit()
    log_in(client)
    page = client.get(f"/admin/imports/{running.id}")
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="3">' in page.text
    assert page.headers["refresh"] == "3"
    assert "500" in page.text
    assert client.get("/admin/imports/999999").status_code == 404


def test_the_runner_never_raises_and_leaves_no_upload_behind(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    tmp_path: Path,
) -> None:
    imports.run_job(db_sessionmaker, settings, 999_999)  # no such job: nothing happens

    unreadable = tmp_path / "gone.jsonl"  # deleted before the job ran
    broken = ImportJob(
        created_at=NOW,
        actor=EMAIL,
        kind="upload",
        description="gone.jsonl",
        status="queued",
        parameters={"path": str(unreadable), "filename": "gone.jsonl"},
        inserted=0,
        updated=0,
        unchanged=0,
        rejected=0,
        rejections=[],
    )
    session.add(broken)
    session.commit()
    imports.run_job(db_sessionmaker, settings, broken.id)  # synchronously, in this thread
    done = job(session, broken.id)
    assert done.status == "done"
    assert done.rejected == 1
    assert done.rejections[0]["reason"] == "no such file or directory"

    imports.run_job(db_sessionmaker, settings, broken.id)  # not queued any more: not run again
    assert job(session, broken.id).finished_at == done.finished_at

    def no_database() -> Session:
        raise RuntimeError("the database is away")

    imports.run_job(cast(Any, no_database), settings, broken.id)  # logged, not raised
