"""CSRF by default: every route that accepts POST refuses a request without our token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import csrf
from app.admin.auth import create_admin
from app.admin.models import AuditEvent
from app.config import Settings
from app.contact.models import ContactRequest
from app.main import create_app
from tests import factories as f
from tests.conftest import NOW, load
from tests.functional.admin.helpers import EMAIL, PASSWORD, log_in


def post_routes(app: FastAPI) -> list[APIRoute]:
    """Every route of the app that accepts POST, whichever router defines it."""
    found = []
    for route in app.routes:
        nested = getattr(route, "original_router", None)
        for candidate in nested.routes if nested is not None else [route]:
            if isinstance(candidate, APIRoute) and "POST" in (candidate.methods or set()):
                found.append(candidate)
    return found


def concrete(path: str, nct_id: str) -> str:
    """A route path with its parameters filled in: a study that exists, ids 1."""
    path = path.replace("{nct_id}", nct_id)
    return re.sub(r"\{[a-z_]+\}", "1", path)


def writes(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(ContactRequest)) or 0,
        session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
    )


@pytest.fixture
def logged_in(settings: Settings, db_sessionmaker: Any, session: Session) -> TestClient:
    create_admin(session, email=EMAIL, password=PASSWORD, now=NOW)
    session.commit()
    app = create_app(settings)
    app.state.sessionmaker = db_sessionmaker
    client = TestClient(app, raise_server_exceptions=False)
    assert log_in(client).status_code == 303
    return client


def test_every_post_route_refuses_a_request_without_the_token(
    logged_in: TestClient, session: Session
) -> None:
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[{"email": "t@example.org"}])])
    load(session, record)
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    routes = post_routes(logged_in.app)  # type: ignore[arg-type]
    assert len(routes) >= 15, [r.path for r in routes]  # the contact form and the admin area
    before = writes(session)
    for route in routes:
        if route.name in csrf.EXEMPT:
            continue
        # A logged-in administrator, a well-formed form, everything but the token.
        response = logged_in.post(
            concrete(route.path, nct_id),
            data={"email": EMAIL, "password": PASSWORD, "first_name": "Ana"},
            follow_redirects=False,
        )
        assert response.status_code == 403, (route.path, response.status_code)
    assert writes(session) == before


def test_a_token_from_another_browser_or_site_is_refused(
    logged_in: TestClient, session: Session
) -> None:
    page = logged_in.get("/admin/studies/new")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {"csrf_token": token.group(1), "nct_id": "NCT98999990", "brief_title": "T"}
    # The right token, sent from another site's page: refused before anything is read.
    cross = logged_in.post(
        "/admin/studies/new", data=form, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    # The token of another browser (another cookie): refused too.
    logged_in.cookies.delete(csrf.COOKIE)
    logged_in.cookies.set(csrf.COOKIE, "someone-elses-cookie")
    assert logged_in.post("/admin/studies/new", data=form).status_code == 403


def test_the_check_runs_before_any_database_work(
    logged_in: TestClient, db_sessionmaker: sessionmaker[Session]
) -> None:
    """With every database call failing, a POST without the token still gets its 403."""

    def no_database() -> Session:
        raise AssertionError("the database was used before the CSRF check")

    logged_in.app.state.sessionmaker = no_database  # type: ignore[attr-defined]
    response = logged_in.post("/admin/outbox/1/retry", data={}, follow_redirects=False)
    assert response.status_code == 403
    logged_in.app.state.sessionmaker = db_sessionmaker  # type: ignore[attr-defined]


def test_a_failed_check_shows_the_contact_form_again_with_the_answers(
    client: TestClient, session: Session
) -> None:
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[{"email": "t@example.org"}])])
    load(session, record)
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    response = client.post(
        f"/studies/{nct_id}/contact",
        data={"first_name": "Ana", "last_name": "Lima", "email": "ana@example.com"},
    )
    assert response.status_code == 403
    assert "needs to be sent again" in response.text
    assert 'value="Ana"' in response.text
    assert 'value="ana@example.com"' in response.text
    assert writes(session)[0] == 0


def test_only_named_routes_are_exempt(
    settings: Settings, db_sessionmaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exemption list is the only way out, and it is short: RFC 8058's one-click
    unsubscribe, whose callers (mail clients) hold no token."""
    assert set(csrf.EXEMPT) == {"alert_unsubscribe_post"}
    app = create_app(settings)
    app.state.sessionmaker = db_sessionmaker

    @app.post("/test-exempt", name="test_exempt")
    def exempt() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/test-protected", name="test_protected")
    def protected() -> dict[str, str]:
        return {"ok": "yes"}

    client = TestClient(app, raise_server_exceptions=False)
    assert client.post("/test-exempt", data={}).status_code == 403
    monkeypatch.setattr(csrf, "EXEMPT", {"test_exempt": "a test"})
    assert client.post("/test-exempt", data={}).status_code == 200
    assert client.post("/test-protected", data={}).status_code == 403


def test_a_proxy_that_sends_its_own_host_does_not_break_forms(
    settings: Settings, db_sessionmaker: Any, session: Session
) -> None:
    """Origin may name the public site (TRIALFINDER_BASE_URL) when Host is the proxy's."""
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[{"email": "t@example.org"}])])
    load(session, record)
    nct_id = record["protocolSection"]["identificationModule"]["nctId"]
    app = create_app(settings.model_copy(update={"base_url": "https://trials.example.org"}))
    app.state.sessionmaker = db_sessionmaker
    # The browser speaks https to the proxy, which passes its own Host on.
    with TestClient(app, base_url="https://backend:8000") as browser:
        page = browser.get(f"/studies/{nct_id}/contact")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        site = re.search(r'name="site" id="site-(\d+)"', page.text)
        assert token
        assert site
        form = {
            "first_name": "Ana",
            "last_name": "Lima",
            "email": "ana@example.com",
            "phone": "+1 202-456-1111",
            "site": site.group(1),
            "consent": "yes",
            "csrf_token": token.group(1),
        }
        path = f"/studies/{nct_id}/contact"
        other = browser.post(path, data=form, headers={"Origin": "https://evil.example"})
        assert other.status_code == 403
        public = browser.post(
            path,
            data=form,
            headers={"Origin": "https://trials.example.org", "Sec-Fetch-Site": "same-origin"},
            follow_redirects=False,
        )
        assert public.status_code == 303
