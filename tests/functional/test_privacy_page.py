"""The privacy page, and the links to it from every public page and the contact form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.contact.consent import CONSENT_VERSION, wording
from app.main import create_app
from tests import factories as f
from tests.conftest import load

HEADINGS = (
    "What we keep",
    "Why we keep it",
    "How we protect it",
    "How long we keep it",
    "Who can see it",
    "How to see, withdraw or erase your details",
    "Who runs this site",
)
PRIVACY_LINK = re.compile(r'href="(?:https?://[^/"]+)?/privacy"')


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


@contextmanager
def client_with(
    settings: Settings, db_sessionmaker: sessionmaker[Session], **changes: Any
) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update=changes))
    app.state.sessionmaker = db_sessionmaker
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def study(session: Session) -> dict[str, Any]:
    record = f.study(
        title="Breathing exercises for adults with asthma",
        sites=[f.site(facility="Lake Clinic", contacts=[{"email": "team@example.org"}])],
    )
    load(session, record)
    return record


def test_the_page_answers_what_why_how_long_and_who(client: TestClient) -> None:
    page = client.get("/privacy")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for heading in HEADINGS:
        assert f">{heading}</h2>" in page.text
    assert "<title>Privacy: how we keep and delete your details · TrialFinder</title>" in page.text


def test_the_page_states_the_retention_from_the_settings(
    settings: Settings, db_sessionmaker: sessionmaker[Session]
) -> None:
    with client_with(settings, db_sessionmaker, retention_days=30) as client:
        text = client.get("/privacy").text
        assert "deleted 30 days after you send the form" in text
        assert "180 days" not in text


def test_the_default_retention_is_180_days(client: TestClient) -> None:
    assert "deleted 180 days after you send the form" in client.get("/privacy").text


def test_the_page_shows_the_consent_wording_patients_agree_to_today(client: TestClient) -> None:
    text = client.get("/privacy").text
    assert str(escape(wording(CONSENT_VERSION))) in text
    assert f"version {CONSENT_VERSION}" in text


def test_the_privacy_contact_is_shown_only_when_set(
    client: TestClient, settings: Settings, db_sessionmaker: sessionmaker[Session]
) -> None:
    assert "mailto:" not in client.get("/privacy").text
    with client_with(settings, db_sessionmaker, privacy_contact_email="dpo@example.org") as other:
        text = other.get("/privacy").text
        assert '<a href="mailto:dpo@example.org">dpo@example.org</a>' in text


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/studies?condition=asthma",
        "/studies/{nct}",
        "/studies/{nct}/contact",
        "/studies/NCT00000000",
        "/no-such-page",
        "/learn",
        "/privacy",
        "/admin/login",
        "/requests/no-such-link",
    ],
)
def test_every_public_page_links_to_the_privacy_page_in_its_footer(
    client: TestClient, study: dict[str, Any], path: str
) -> None:
    page = client.get(path.format(nct=nct(study)))
    footer = page.text[page.text.index('<footer class="site-footer">') :]
    assert PRIVACY_LINK.search(footer), path


def test_the_contact_form_shows_todays_consent_wording_and_links_to_privacy(
    client: TestClient, study: dict[str, Any]
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact")
    assert page.status_code == 200
    form = page.text[page.text.index("<form") : page.text.index("</form>")]
    assert f'<label for="consent">{escape(wording(CONSENT_VERSION))}</label>' in form
    assert PRIVACY_LINK.search(form)
