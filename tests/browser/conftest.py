"""A real browser against the real app: Debian's Chromium driven by Playwright.

The app runs under uvicorn on 127.0.0.1 with its own SQLite database, the email worker in
a thread and a real SMTP sink. Outside CI the browser tests skip, saying why, when
/usr/bin/chromium is absent (install it with `apt-get install chromium`); with CI=true
they must run. Screenshots go to var/screenshots/ (git-ignored) for reviewers.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.cli import upgrade_database
from app.config import Settings
from app.ctgov.importer import RawRecord, import_records, read_records
from app.db import session_factory
from app.main import create_app
from app.outbox.email.senders import SmtpSender
from app.outbox.worker import Worker, start_in_thread
from app.studies.models import Site, Study
from tests import factories as f
from tests.conftest import IN_CI
from tests.servers import uvicorn_in_thread
from tests.smtp_server import SmtpSink, free_port

CHROMIUM = Path("/usr/bin/chromium")
# axe-core comes from the npm registry at test time (pinned, into var/axe/), never from
# the repository. Outside CI the audit skips, saying why, when npm is not available.
AXE_VERSION = "4.14.1"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE_DIR = ROOT / "var" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A study like the largest real ones: 800 sites, a 50-character word in its title and a
# 64-character site email, for the phone layout tests (tests/browser/test_phone_layout.py).
BIG_NCT_ID = "NCT98765433"
BIG_SITES = 800
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosisology"
LONG_EMAIL = "clinical.research.coordinator.office@northwestern-example.org"
SITE_CONTACT = {
    "name": "Dana Example",
    "role": "CONTACT",
    "phone": "+1 312-555-0147",
    "email": "dana@example.org",
}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("CI=true but /usr/bin/chromium is missing: .ci/run installs it with apt")
        pytest.skip("browser tests need Debian's chromium: apt-get install chromium")
    os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", str(ROOT / "var" / "playwright"))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def _settings(database: Path, smtp: SmtpSink) -> Settings:
    port = free_port()
    return Settings(
        _env_file=None,
        database_url=f"sqlite:///{database}",
        base_url=f"http://127.0.0.1:{port}",
        email_backend="smtp",
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        worker_poll_seconds=0.2,
    )


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The app under uvicorn at the settings' base URL, with the email worker in a thread."""
    worker = Worker(session_factory(settings), SmtpSender.from_settings(settings), settings)
    _, stop = start_in_thread(worker)
    port = int(settings.base_url.rsplit(":", 1)[1])
    try:
        with uvicorn_in_thread(create_app(settings), port=port) as url:
            yield url
    finally:
        stop.set()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink) -> Iterator[str]:
    """The app on a free port, with one fictional recruiting study near Chicago."""
    settings = _settings(tmp_path_factory.mktemp("browser") / "app.db", smtp)
    upgrade_database(settings)
    record = f.study(
        "NCT98765432",
        title="Breathing exercises for adults with asthma",
        conditions=("Asthma",),
        max_age="65 Years",
        sites=[
            f.site(
                facility="Lakeside Clinic",
                city="Evanston",
                lat=42.05,
                lon=-87.69,
                contacts=[SITE_CONTACT],
            ),
            f.site(
                facility="Prairie Hospital",
                city="Springfield",
                lat=39.78,
                lon=-89.65,
                contacts=[SITE_CONTACT],
            ),
        ],
    )
    big = f.study(
        BIG_NCT_ID,
        title=f"A study of {LONG_WORD} in adults with eczema",
        conditions=("Eczema",),
        sites=[_big_site(n) for n in range(BIG_SITES)],
    )
    with session_factory(settings)() as session:
        import_records(
            session,
            [RawRecord("browser", "", record), RawRecord("browser", "", big)],
            now=dt.datetime.now(dt.UTC),
        )
        # The Lakeside team speaks Spanish, as an administrator recorded.
        session.execute(
            sa.update(Site).where(Site.facility == "Lakeside Clinic").values(languages=["es"])
        )
        session.commit()
    with serving(settings) as url:
        yield url


@pytest.fixture(scope="session")
def real_records_server(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpSink, shared_studies: Path
) -> Iterator[tuple[str, list[str]]]:
    """The app with the 940 real records imported, and their NCT IDs."""
    settings = _settings(tmp_path_factory.mktemp("browser-real") / "app.db", smtp)
    upgrade_database(settings)
    with session_factory(settings)() as session:
        import_records(session, read_records([str(shared_studies)]), now=dt.datetime.now(dt.UTC))
        session.commit()
        nct_ids = list(session.scalars(sa.select(Study.nct_id).order_by(Study.nct_id)))
    with serving(settings) as url:
        yield url, nct_ids


def _big_site(n: int) -> dict[str, Any]:
    """Site n of the big study; site 0 is in Chicago and has the long email address."""
    lat, lon = 41.88 + (n % 40) * 0.25, -87.63 + (n // 40) * 0.5
    email = LONG_EMAIL if n == 0 else f"site{n}@example.org"
    contact = {"name": f"Coordinator {n}", "role": "CONTACT", "email": email}
    return f.site(
        facility=f"Clinic {n:03d}", city=f"Town {n:03d}", lat=lat, lon=lon, contacts=[contact]
    )


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            if IN_CI:
                pytest.fail("CI=true but npm is missing: it installs axe-core for the audit")
            pytest.skip("the accessibility audit needs npm to install axe-core")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603 - fixed arguments
            [
                npm,
                "install",
                "--silent",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(AXE_DIR),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            timeout=300,
        )
    return AXE_JS
