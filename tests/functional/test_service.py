"""Health checks, security headers and the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app import cli
from app.config import Settings, get_settings
from app.studies.models import SearchTerm, Study
from tests import factories as f


def test_health_and_readiness(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.geo import places
    from app.studies import lay_names

    assert client.get("/healthz").text == "ok"
    places.warm_up()
    lay_names.lay_names()
    assert client.get("/readyz").status_code == 200
    # Until the place index and the lay-name table are built, the process is not ready yet.
    with monkeypatch.context() as patch:
        patch.setattr(places, "_index", None)
        starting = client.get("/readyz")
        assert (starting.status_code, starting.text) == (503, "starting")
        assert starting.headers["retry-after"] == "5"
    with monkeypatch.context() as patch:
        patch.setattr(lay_names, "is_warm", lambda: False)
        assert client.get("/readyz").status_code == 503
    assert client.get("/readyz").status_code == 200


def test_security_headers_on_pages(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_openapi_page_is_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200


def test_openapi_documents_the_search(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"] for p in spec["paths"]["/api/v1/studies"]["get"]["parameters"]}
    assert {"condition", "age", "sex", "location", "lat", "lon", "radius_km", "status"} <= params


@pytest.fixture
def cli_database(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The test database for commands, which commit for real: emptied afterwards."""
    monkeypatch.setenv("TRIALFINDER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield settings.database_url
    get_settings.cache_clear()
    with engine.begin() as conn:
        conn.execute(delete(Study))
        conn.execute(delete(SearchTerm))


def test_import_command_reports_and_exits_1_on_rejection(
    cli_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = f.study()
    path = tmp_path / "studies.jsonl"
    path.write_text(json.dumps(good) + "\n" + '{"protocolSection": {}}\n')
    assert cli.main(["import-ctgov", "-q", str(path)]) == 1
    out = capsys.readouterr()
    assert "inserted 1, updated 0, unchanged 0, rejected 1" in out.out
    assert f"{path}, line 2" in out.err

    path.write_text(json.dumps(good) + "\n")
    assert cli.main(["import-ctgov", "-q", str(path)]) == 0
    assert "unchanged 1" in capsys.readouterr().out


def test_demo_data_command_loads_once(
    cli_database: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo-data", "-q", "--studies", "25", "--if-empty"]) == 0
    assert cli.main(["demo-data", "-q", "--studies", "25", "--if-empty"]) == 0
    assert "already holds studies" in capsys.readouterr().out
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Study)) == 25


def test_fetch_command_imports_from_a_local_stand_in_for_the_api(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fetch-ctgov` against a local HTTP server that answers like API v2 (two pages)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    pages = {"": ([f.study(), f.study()], "page-2"), "page-2": ([f.study()], None)}
    seen: list[dict[str, list[str]]] = []

    class FakeApi(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            seen.append(query)
            studies, token = pages[query.get("pageToken", [""])[0]]
            body = json.dumps({"studies": studies, **({"nextPageToken": token} if token else {})})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv(
            "TRIALFINDER_CTGOV_API_URL", f"http://127.0.0.1:{server.server_port}/api/v2"
        )
        get_settings.cache_clear()
        code = cli.main(["fetch-ctgov", "--condition", "asthma", "--status", "RECRUITING", "-q"])
    finally:
        server.shutdown()
        get_settings.cache_clear()
    assert code == 0
    assert "inserted 3, updated 0, unchanged 0, rejected 0" in capsys.readouterr().out
    assert seen[0]["query.cond"] == ["asthma"]
    assert seen[0]["filter.overallStatus"] == ["RECRUITING"]
    assert seen[1]["pageToken"] == ["page-2"]
