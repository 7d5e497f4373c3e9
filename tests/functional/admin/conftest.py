"""Fixtures for the admin area: an https client (Secure cookies) and an administrator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.admin.auth import create_admin
from app.admin.models import AdminUser
from app.config import Settings
from tests.conftest import NOW
from tests.functional.admin.helpers import EMAIL, PASSWORD


@pytest.fixture
def client(settings: Settings, db_sessionmaker: Any) -> Iterator[TestClient]:
    """Over https, as the admin area is served outside development (Secure cookies)."""
    from app.main import create_app

    app = create_app(settings)
    app.state.sessionmaker = db_sessionmaker
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def admin(session: Session) -> AdminUser:
    user = create_admin(session, email=EMAIL, password=PASSWORD, now=NOW)
    session.commit()
    return user
