"""Test databases: every database test runs on SQLite and on PostgreSQL.

Each database is built once per run with the real migrations (`alembic upgrade head`);
each test then works inside a transaction that is rolled back, joined by savepoints so
the code under test may commit freely.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.cli import upgrade_database
from app.config import Settings
from app.ctgov.importer import ImportReport, RawRecord, import_records
from app.db import make_engine
from app.main import create_app
from tests.smtp_server import SmtpSink

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# One pair of keys for the run, in the environment so that every Settings() and every
# server process the tests start encrypts and looks up alike.
os.environ.setdefault("TRIALFINDER_DATA_KEY", Fernet.generate_key().decode())
os.environ.setdefault("TRIALFINDER_LOOKUP_KEY", Fernet.generate_key().decode())
POSTGRES_URL = os.environ.get(
    "TRIALFINDER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHARED_STUDIES = Path(__file__).resolve().parents[1].parent / "shared/data/ctgov/studies.jsonl"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for this run, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"trialfinder_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if IN_CI:
            raise RuntimeError(f"CI=true but PostgreSQL is unreachable at {POSTGRES_URL}") from exc
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}")
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        mail_dir=str(tmp_path_factory.mktemp("mail")),
        _env_file=None,
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    upgrade_database(settings)
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def db_sessionmaker(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(db_sessionmaker: sessionmaker[Session]) -> Iterator[Session]:
    with db_sessionmaker() as session:
        yield session


@pytest.fixture
def client(settings: Settings, db_sessionmaker: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.sessionmaker = db_sessionmaker
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def load(session: Session, *studies: dict[str, Any]) -> ImportReport:
    """Import API v2 study objects through the real importer."""
    records = (RawRecord("test", f"index {i}", s) for i, s in enumerate(studies))
    report = import_records(session, records, now=NOW)
    session.commit()
    return report


@pytest.fixture(scope="session")
def shared_studies() -> Path:
    """The real records beside the repository: CI has them; elsewhere their tests skip."""
    if not SHARED_STUDIES.exists():
        if IN_CI:
            pytest.fail(f"CI=true but the real records are missing at {SHARED_STUDIES}")
        pytest.skip(f"real ClinicalTrials.gov records not found at {SHARED_STUDIES}")
    return SHARED_STUDIES


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on 127.0.0.1 for the test, stopped afterwards."""
    with SmtpSink() as sink:
        yield sink


def smtp_settings(settings: Settings, host: str, port: int) -> Settings:
    """The test settings, delivering by SMTP to host:port, with quick retries."""
    return settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": host,
            "smtp_port": port,
            "smtp_timeout": 2.0,
            "fallback_contact_email": None,
        }
    )


@pytest.fixture
def committed_sessionmaker(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that really commit (for tests with several connections or threads).

    Everything they leave behind is deleted afterwards, so other tests see an empty database.
    """
    yield sessionmaker(engine, expire_on_commit=False)
    with engine.begin() as conn:
        for table in (
            "alert_studies",
            "alerts",
            "alert_links",
            "alert_runs",
            "shares",
            "outbox_messages",
            "contact_requests",
            "contact_counts",
            "daily_jobs",
            "sites",
            "studies",
            "search_terms",
            "rate_limits",
            "audit_events",
            "login_attempts",
            "admin_users",
            "import_jobs",
        ):
            conn.execute(sa.text(f"DELETE FROM {table}"))
