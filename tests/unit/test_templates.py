"""Templates as code: every template compiles, every page has a title and renders."""

from __future__ import annotations

from typing import Any

import pytest

from app.resources import STATIC_DIR, TEMPLATE_DIR
from app.templating import distance_label, make_templates

PAGES = sorted(
    str(p.relative_to(TEMPLATE_DIR))
    for p in TEMPLATE_DIR.rglob("*.html")
    if not p.name.startswith("_") and "_macros" not in p.parts and p.name != "base.html"
)


@pytest.mark.parametrize(
    "name", sorted(str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.html"))
)
def test_template_compiles(name: str) -> None:
    make_templates().env.get_template(name)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_sets_a_title(name: str) -> None:
    assert "{% block title %}" in (TEMPLATE_DIR / name).read_text()


def test_distance_in_km_and_miles() -> None:
    assert distance_label(16.09344) == "16.1 km (10.0 miles)"


def test_static_assets_exist() -> None:
    assert (STATIC_DIR / "css/site.css").is_file()
    assert (STATIC_DIR / "js/site.js").is_file()


@pytest.mark.parametrize(
    "name", sorted(str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.html"))
)
def test_no_inline_scripts_or_styles(name: str) -> None:
    """A strict Content-Security-Policy forbids them; scripts and styles live in static/."""
    import re

    text = (TEMPLATE_DIR / name).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    assert "javascript:" not in text


def test_every_page_renders_through_the_application(
    settings: Any, db_sessionmaker: Any, session: Any
) -> None:
    """Each page template is rendered at least once by a real request, with real data."""
    import re

    from fastapi.testclient import TestClient

    from app.admin.auth import create_admin
    from app.admin.models import ImportJob
    from app.contact.models import ContactRequest
    from app.main import create_app
    from app.outbox.models import OutboxMessage
    from app.studies.models import Site
    from tests import factories as f
    from tests.conftest import NOW, load
    from tests.functional.admin.helpers import EMAIL, PASSWORD, log_in

    open_study = f.study(
        sites=[f.site(facility="Lake Clinic", contacts=[{"email": "team@example.org"}])]
    )
    closed_study = f.study(status="COMPLETED", sites=[f.site(facility="Old Clinic")])
    two_site_study = f.study(sites=[f.site(facility="East Clinic"), f.site(facility="West Clinic")])
    load(session, open_study, closed_study, two_site_study)
    create_admin(session, email=EMAIL, password=PASSWORD, now=NOW)
    session.add(
        ImportJob(created_at=NOW, actor=EMAIL, kind="upload", description="x.json", status="done")
    )
    session.commit()
    nct = open_study["protocolSection"]["identificationModule"]["nctId"]
    closed = closed_study["protocolSection"]["identificationModule"]["nctId"]
    two_sites = two_site_study["protocolSection"]["identificationModule"]["nctId"]

    app = create_app(settings)
    app.state.sessionmaker = db_sessionmaker
    rendered: set[str] = set()
    with TestClient(app, raise_server_exceptions=False) as client:

        def visit(method: str, url: str, **kwargs: Any) -> Any:
            response = client.request(method, url, **kwargs)
            assert response.status_code < 500, (url, response.status_code)
            template = getattr(response, "template", None)
            if template is not None:
                rendered.add(template.name)
            return response

        form = visit("GET", f"/studies/{nct}/contact")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        site = re.search(r'name="site" id="site-(\d+)"', form.text)
        assert token
        assert site
        sent = visit(
            "POST",
            f"/studies/{nct}/contact",
            data={
                "first_name": "Ana",
                "last_name": "Lima",
                "email": "ana@example.com",
                "phone": "+1 202-456-1111",
                "site": site.group(1),
                "consent": "yes",
                "csrf_token": token.group(1),
            },
        )
        assert sent.status_code == 200  # the confirmation, after the redirect
        for url in (
            "/",
            "/studies?condition=asthma",
            f"/studies/{nct}",
            f"/studies/{nct}/sites",
            f"/studies/{nct}/summary",
            f"/studies/{closed}/contact",
            f"/studies/{two_sites}/contact",  # no place given: "Where are you?"
            "/alerts?condition=asthma",
            "/alerts/manage",
            "/alerts/confirm/" + "x" * 43,  # unknown: the link problem page
            "/learn",
            "/privacy",
            "/no-such-page",
        ):
            visit("GET", url)
        visit("POST", "/")  # 405: the general error page
        visit("GET", "/admin/login")
        assert log_in(client).status_code == 303
        request_id = session.query(ContactRequest.id).scalar()
        job_id = session.query(ImportJob.id).scalar()
        site_id = session.query(Site.id).first()[0]
        for url in (
            "/admin",
            "/admin/studies",
            "/admin/studies/new",
            f"/admin/sites/{site_id}",
            "/admin/requests",
            f"/admin/requests/{request_id}",
            "/admin/outbox",
            "/admin/audit",
            "/admin/imports",
            f"/admin/imports/{job_id}",
            "/admin/studies?page=0",  # 422: the admin error page
        ):
            visit("GET", url, follow_redirects=False)
        copy = session.query(OutboxMessage).filter_by(kind="contact_patient").one()
        link = re.search(r"/requests/[A-Za-z0-9_-]{43}", copy.body_text or "")
        assert link
        visit("GET", link.group(0))
        _alert_pages(visit, session)
        _notes_pages(visit, nct)
        visit("GET", "/requests/withdrawn")
        visit("GET", "/requests/no-such-token")
        opened = visit("GET", f"/admin/requests/{request_id}")
        admin_token = re.search(r'name="csrf_token" value="([^"]+)"', opened.text)
        assert admin_token
        visit(
            "POST",
            f"/admin/requests/{request_id}/erase",
            data={"csrf_token": admin_token.group(1)},
        )
    # Emails are rendered from their typed samples (tests/unit/test_email_templates.py).
    assert {page for page in PAGES if not page.startswith("email/")} - rendered == set()


def _notes_pages(visit: Any, nct: str) -> None:
    """Notes, share, open (wrong, then right), revoke: every notes page on the way."""
    import re

    page = visit("GET", f"/studies/{nct}/notes")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data = {"csrf_token": token.group(1), "answer-1": "yes", "note": "x", "passcode": "a" * 8}
    visit("POST", f"/studies/{nct}/notes", data={**data, "action": "review"})
    made = visit("POST", f"/studies/{nct}/notes", data={**data, "action": "share"})
    link = re.search(r"/shared/([A-Za-z0-9_-]{32})/manage/([A-Za-z0-9_-]{32})", str(made.url))
    assert link
    share, secret = link.groups()
    visit("GET", f"/shared/{share}")
    visit("POST", f"/shared/{share}", data={"csrf_token": token.group(1), "passcode": "b" * 8})
    visit("POST", f"/shared/{share}", data={"csrf_token": token.group(1), "passcode": "a" * 8})
    visit("POST", f"/shared/{share}/revoke", data={"csrf_token": token.group(1), "secret": "c"})
    visit("POST", f"/shared/{share}/revoke", data={"csrf_token": token.group(1), "secret": secret})
    visit("GET", f"/shared/{share}")  # 410: the link no longer works


def _alert_pages(visit: Any, session: Any) -> None:
    """Sign up, confirm, manage and unsubscribe, rendering every alert page on the way."""
    import re

    from app.outbox.models import OutboxMessage

    def token_of(page: Any) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found
        return found.group(1)

    form = visit("GET", "/alerts?condition=asthma")
    data = {"email": "ana@example.com", "condition": "asthma", "consent": "yes"}
    visit("POST", "/alerts", data={**data, "consent": ""})  # 422: the form again
    checked = visit("POST", "/alerts", data={**data, "csrf_token": token_of(form)})
    assert "Check your email" in checked.text
    mail = session.query(OutboxMessage).filter_by(kind="alert_confirm").one()
    confirm = re.search(r"/alerts/confirm/[A-Za-z0-9_-]{43}", mail.body_text or "")
    assert confirm
    page = visit("GET", confirm.group(0))
    done = visit("POST", confirm.group(0), data={"csrf_token": token_of(page)})
    manage = re.search(r"/alerts/manage/[A-Za-z0-9_-]{43}", done.text)
    assert manage
    listing = visit("GET", manage.group(0))
    visit(
        "POST", "/alerts/manage", data={"email": "ana@example.com", "csrf_token": token_of(listing)}
    )
    unsubscribe = re.search(r"/alerts/unsubscribe/[A-Za-z0-9_-]{43}", mail.body_text or "")
    assert unsubscribe
    visit("GET", unsubscribe.group(0))
    visit("POST", unsubscribe.group(0), data={"List-Unsubscribe": "One-Click"})
