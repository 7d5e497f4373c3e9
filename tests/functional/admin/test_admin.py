"""The admin area through HTTP, on SQLite and PostgreSQL: access, login, queue, requests, audit."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import cli
from app.admin.auth import MAX_FAILURES_PER_ACCOUNT
from app.admin.models import AdminUser, AuditEvent
from app.config import Settings, get_settings
from app.contact.forms import ContactSubmission
from app.contact.models import ContactRequest
from app.contact.service import submit_contact_request
from app.outbox.models import OutboxMessage
from app.studies.models import Study
from tests import factories as f
from tests.conftest import NOW, load
from tests.functional.admin.helpers import EMAIL, PASSWORD, log_in, token

__all__ = ["log_in", "token"]  # other admin tests import these from here too


def admin_routes(app: object) -> list[APIRoute]:
    """Every route of the app under /admin, whichever router it comes from."""
    found: list[APIRoute] = []
    for route in getattr(app, "routes", []):
        nested = getattr(route, "original_router", None)  # an included router
        for candidate in nested.routes if nested is not None else [route]:
            if isinstance(candidate, APIRoute) and candidate.path.startswith("/admin"):
                found.append(candidate)
    return found


def test_every_admin_route_needs_a_login(client: TestClient) -> None:
    routes = admin_routes(client.app)
    assert len(routes) >= 20
    for route in routes:
        if route.path == "/admin/login":
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods or ():
            response = client.request(method, path, follow_redirects=False)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/admin/login"), (method, path)
            else:
                assert response.status_code in (401, 403), (method, path, response.status_code)


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(
    client: TestClient, admin: AdminUser
) -> None:
    response = log_in(client)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "tf_admin=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Path=/admin" in cookie
    stolen = client.cookies.get("tf_admin")
    page = client.get("/admin")
    assert page.status_code == 200
    assert "Overview" in page.text
    assert page.headers["cache-control"] == "no-store"
    client.post("/admin/logout", data={"csrf_token": token(page.text)})
    assert client.get("/admin", follow_redirects=False).status_code == 303
    # The old cookie is dead too, not only forgotten by this browser.
    client.cookies.set("tf_admin", stolen or "", path="/admin")
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_every_cookie_is_secure_exactly_when_the_site_is_served_over_https(
    settings: Settings, db_sessionmaker: Any, admin: AdminUser
) -> None:
    """One rule for the session and the CSRF cookie alike (production requires https)."""
    from app.main import create_app

    for base_url, secure in (("https://trials.example.org", True), ("http://127.0.0.1", False)):
        app = create_app(settings.model_copy(update={"base_url": base_url}))
        app.state.sessionmaker = db_sessionmaker
        scheme = base_url.split(":", 1)[0]
        with TestClient(app, base_url=f"{scheme}://testserver") as browser:
            form_cookie = browser.get("/admin/login").headers["set-cookie"]
            session_cookie = log_in(browser).headers["set-cookie"]
        assert form_cookie.startswith("tf_csrf=")
        assert session_cookie.startswith("tf_admin=")
        for header in (form_cookie, session_cookie):
            assert ("; Secure" in header) is secure, header
            assert "HttpOnly" in header


def test_wrong_passwords_get_one_message_and_are_throttled(
    client: TestClient, admin: AdminUser
) -> None:
    wrong = log_in(client, password="not the password at all")
    unknown = log_in(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    message = "That email address and password do not match an account."
    assert message in wrong.text
    assert message in unknown.text
    for _ in range(MAX_FAILURES_PER_ACCOUNT):
        log_in(client, password="still not the password")
    locked = log_in(client)  # the right password no longer helps for a while
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.text


def test_login_needs_the_csrf_token(client: TestClient, admin: AdminUser) -> None:
    client.get("/admin/login")
    response = client.post("/admin/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_next_never_leaves_the_admin_area(client: TestClient, admin: AdminUser) -> None:
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={
            "email": EMAIL,
            "password": PASSWORD,
            "csrf_token": token(page.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/admin"


def submit(
    session: Session, *, contacts: list[dict[str, str]], email: str = "ana@example.com"
) -> ContactRequest:
    record = f.study(sites=[f.site(facility="Harbor Clinic", contacts=contacts)])
    if not contacts:
        record["protocolSection"]["contactsLocationsModule"]["centralContacts"] = []
    load(session, record)
    study = session.scalars(
        select(Study).where(
            Study.nct_id == record["protocolSection"]["identificationModule"]["nctId"]
        )
    ).one()
    submission = ContactSubmission(
        "Ana", "Lima", email, "+12024561111", None, study.sites[0].id, True
    )
    result = submit_contact_request(
        session,
        study=study,
        site=study.sites[0],
        submission=submission,
        settings=Settings(_env_file=None),
        now=NOW,
    )
    session.commit()
    return result.request


def test_requests_list_filters_and_shows_failures(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    ok = submit(session, contacts=[{"email": "team@example.org"}], email="ok@example.com")
    flagged = submit(session, contacts=[], email="flag@example.com")
    failed = session.scalars(
        select(OutboxMessage).where(OutboxMessage.contact_request_id == ok.id)
    ).first()
    assert failed is not None
    failed.status, failed.last_error = "failed", "550 5.1.1 mailbox unavailable"
    session.commit()
    log_in(client)
    everything = client.get("/admin/requests")
    assert everything.status_code == 200
    assert everything.text.index(flagged.nct_id) < everything.text.index(ok.nct_id)  # newest first
    assert 'class="state-failed"' in everything.text
    only_flagged = client.get("/admin/requests", params={"state": "flagged"}).text
    assert flagged.nct_id in only_flagged
    assert ok.nct_id not in only_flagged
    by_study = client.get("/admin/requests", params={"study": ok.nct_id.lower()}).text
    assert ok.nct_id in by_study
    assert flagged.nct_id not in by_study
    detail = client.get(f"/admin/requests/{ok.id}").text
    assert "ok@example.com" in detail
    assert "site: team@example.org" in detail
    assert "550 5.1.1 mailbox unavailable" in detail


def test_retry_a_failed_email_is_audited(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    request = submit(session, contacts=[{"email": "team@example.org"}])
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.contact_request_id == request.id)
    ).first()
    assert message is not None
    message.status, message.attempts = "failed", 8
    session.commit()
    log_in(client)
    page = client.get("/admin/outbox", params={"status": "failed"})
    assert "Retry" in page.text
    client.post(f"/admin/outbox/{message.id}/retry", data={"csrf_token": token(page.text)})
    session.expire_all()
    assert (message.status, message.attempts) == ("queued", 0)
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["login", "outbox.retry"]
    assert "outbox.retry" in client.get("/admin/audit").text


def test_fix_a_site_address_and_reroute_a_flagged_request(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    request = submit(session, contacts=[])
    assert request.routing == "flagged"
    log_in(client)
    page = client.get(f"/admin/requests/{request.id}")
    assert "has not reached a study team" in page.text
    client.post(
        f"/admin/sites/{request.site_id}/contact-email",
        data={
            "email": "harbor@example.org",
            "back": f"/admin/requests/{request.id}",
            "csrf_token": token(page.text),
        },
    )
    page = client.get(f"/admin/requests/{request.id}")
    client.post(f"/admin/requests/{request.id}/reroute", data={"csrf_token": token(page.text)})
    session.expire_all()
    assert (request.routing, request.routed_to) == ("site", "harbor@example.org")
    kinds = sorted(
        m.kind
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.contact_request_id == request.id)
        )
    )
    assert kinds == ["contact_patient", "contact_site"]
    actions = {e.action for e in session.scalars(select(AuditEvent))}
    assert {"site.contact_email", "request.reroute"} <= actions


def test_actions_need_the_csrf_token(
    client: TestClient, session: Session, admin: AdminUser
) -> None:
    request = submit(session, contacts=[])
    log_in(client)
    response = client.post(f"/admin/requests/{request.id}/reroute", data={})
    assert response.status_code == 403


def test_create_admin_command(
    settings: Settings,
    engine: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TRIALFINDER_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        assert cli.main(["create-admin", "ops@example.org", "--password-stdin"]) == 1
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        assert cli.main(["create-admin", "Ops@Example.org", "--password-stdin"]) == 0
        assert "ops@example.org can now log in" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    from sqlalchemy import delete
    from sqlalchemy.orm import Session as PlainSession

    with PlainSession(engine) as plain:
        user = plain.scalars(select(AdminUser).where(AdminUser.email == "ops@example.org")).one()
        assert user.password_hash.startswith("$argon2id$")
        plain.execute(delete(AuditEvent))
        plain.execute(delete(AdminUser))
        plain.commit()
