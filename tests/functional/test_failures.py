"""Failure answers: every error page carries the security headers, and a database outage
is a calm 503 with Retry-After that heals itself when the database comes back.

The outage test runs a PostgreSQL cluster of its own (initdb in a temporary folder), stops
it under a running application and starts it again.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.cli import upgrade_database
from app.config import Settings
from app.db import session_factory
from app.geo import places
from app.headers import SECURITY_HEADERS
from app.main import create_app
from app.studies.models import Study
from tests import factories as f
from tests.conftest import IN_CI, load
from tests.smtp_server import free_port


def assert_secured(response: Any) -> None:
    for name in SECURITY_HEADERS:
        assert name.lower() in response.headers, (response.status_code, name)


def test_not_found_pages_carry_the_security_headers(client: TestClient) -> None:
    for path in ("/no-such-page", "/studies/NCT98999999", "/api/v1/nothing"):
        response = client.get(path)
        assert response.status_code == 404
        assert_secured(response)


def test_a_server_error_is_a_calm_page_with_the_security_headers(
    settings: Settings, db_sessionmaker: Any
) -> None:
    app = create_app(settings)
    app.state.sessionmaker = db_sessionmaker

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "a bug" not in response.text
    assert_secured(response)


def test_too_many_requests_say_when_to_come_back(client: TestClient, session: Any) -> None:
    from app.contact.service import ADDRESS_LIMIT

    records = [
        f.study(sites=[f.site(facility="Clinic", contacts=[{"email": "t@example.org"}])])
        for _ in range(ADDRESS_LIMIT.times + 1)
    ]
    load(session, *records)
    answers = []
    for record in records:
        nct_id = record["protocolSection"]["identificationModule"]["nctId"]
        page = client.get(f"/studies/{nct_id}/contact")
        site = re.search(r'name="site" id="site-(\d+)"', page.text)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert site
        assert token
        answers.append(
            client.post(
                f"/studies/{nct_id}/contact",
                data={
                    "first_name": "Ana",
                    "last_name": "Lima",
                    "email": "ana@example.com",
                    "phone": "+1 202-456-1111",
                    "site": site.group(1),
                    "consent": "yes",
                    "csrf_token": token.group(1),
                },
                follow_redirects=False,
            )
        )
    refused = answers[-1]
    assert refused.status_code == 429
    assert 3590 <= int(refused.headers["retry-after"]) <= 3600
    assert 'value="Ana"' in refused.text  # the form again, answers kept
    assert_secured(refused)


# --- a database outage -----------------------------------------------------------------


def _pg_bin() -> Path | None:
    root = Path("/usr/lib/postgresql")
    versions = sorted(root.iterdir(), reverse=True) if root.is_dir() else []
    for version in versions:
        if (version / "bin" / "initdb").exists():
            return version / "bin"
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Cluster:
    """A throwaway PostgreSQL cluster: initdb in a temporary folder, on a free port."""

    def __init__(self, folder: Path) -> None:
        bin_dir = _pg_bin()
        if bin_dir is None:
            if IN_CI:
                pytest.fail("CI=true but PostgreSQL's initdb is not installed")
            pytest.skip("PostgreSQL's initdb is not installed")
        self.bin = bin_dir
        self.data = folder / "data"
        self.port = free_port()
        # PostgreSQL refuses to run as root: as root, run it as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        folder.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            for owned in (folder.parent, folder):
                shutil.chown(owned, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_user, str(self.bin / tool), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -k {self.data}"
        log = str(self.data / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    # Not under pytest's own temporary folder: the postgres user may not enter that one.
    folder = Path(tempfile.mkdtemp(prefix="trialfinder-pg-"))
    try:
        pg = Cluster(folder / "cluster")
        pg.start()
        try:
            yield pg
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                pg.stop()  # unless the test left it stopped
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_database_outage_is_a_calm_503_and_heals_without_a_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = Settings(
        env="test", database_url=cluster.url, mail_dir=str(tmp_path / "mail"), _env_file=None
    )
    upgrade_database(settings)
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[{"email": "t@example.org"}])])
    with session_factory(settings)() as session:
        load(session, record)
        study = session.scalars(select(Study)).one()
        nct_id, site_id = study.nct_id, study.sites[0].id
    places.warm_up()

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get(f"/studies/{nct_id}").status_code == 200
        assert client.get("/readyz").status_code == 200
        page = client.get(f"/studies/{nct_id}/contact")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        form = {
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana@example.com",
            "phone": "+1 202-456-1111",
            "site": str(site_id),
            "consent": "yes",
            "csrf_token": token.group(1),
        }

        cluster.stop()
        for path in (f"/studies/{nct_id}", "/studies?condition=asthma", "/readyz"):
            down = client.get(path)
            assert down.status_code == 503, path
            assert int(down.headers["retry-after"]) > 0, path
            assert_secured(down)
        assert "busy or being maintained" in client.get(f"/studies/{nct_id}").text
        api = client.get("/api/v1/studies", params={"condition": "asthma"})
        assert api.status_code == 503
        assert "retry-after" in api.headers
        assert api.json()["detail"]
        posted = client.post(f"/studies/{nct_id}/contact", data=form, follow_redirects=False)
        assert posted.status_code == 503
        assert "retry-after" in posted.headers
        assert client.get("/").status_code == 200  # pages that need no database still work

        cluster.start()
        assert client.get(f"/studies/{nct_id}").status_code == 200
        assert client.get("/readyz").status_code == 200
        again = client.post(f"/studies/{nct_id}/contact", data=form, follow_redirects=False)
        assert again.status_code == 303
