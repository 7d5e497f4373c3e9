"""Email templates as code: sample contexts render, subjects are one line without health details."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from app.contact.routing import Routing
from app.outbox.email.rendering import render_email

STUDY = SimpleNamespace(nct_id="NCT98000001", brief_title="Breathing exercises for asthma")
SITE = SimpleNamespace(facility="Lakeside Clinic", city="Evanston")


def context(*, site: Any, routing: Routing, team: str) -> dict[str, Any]:
    request = SimpleNamespace(
        first_name="Ana",
        last_name="Lima",
        email="ana@example.com",
        phone="+12024561111",
        created_at=dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC),
        public_id="abc123",
        team=team,
    )
    return {
        "request": request,
        "study": STUDY,
        "site": site,
        "site_name": "Lakeside Clinic, Evanston" if site else "the study team",
        "site_short": "Lakeside Clinic" if site else "the study team",
        "routing": routing,
        "language": "Portuguese",
        "study_url": "https://t.example/studies/NCT98000001",
        "site_url": "https://t.example",
        "contact": {"name": "Dana", "phone": "+1 312-555-0147"},
    }


CASES = {
    "site": (
        SITE,
        Routing("site", "dana@example.org", "Dana"),
        "the research team at Lakeside Clinic",
    ),
    "central": (
        SITE,
        Routing("central", "pat@example.org"),
        "the research team at Lakeside Clinic",
    ),
    "fallback": (
        SITE,
        Routing("fallback", "desk@example.org"),
        "the research team at Lakeside Clinic",
    ),
    "flagged": (SITE, Routing("flagged", None), "the research team at Lakeside Clinic"),
    "no sites": (None, Routing("central", "pat@example.org"), "the study's research team"),
}


@pytest.mark.parametrize("name", ["contact_site", "contact_patient"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_email_renders_with_a_one_line_subject(name: str, case: str) -> None:
    site, routing, team = CASES[case]
    email = render_email(name, context(site=site, routing=routing, team=team))
    assert "\n" not in email.subject
    assert "asthma" not in email.subject.lower()  # the subject names the study by its ID only
    assert STUDY.nct_id in email.subject
    assert email.html is not None
    assert "Ana" in email.text
    assert STUDY.nct_id in email.text
    assert "at the study team" not in email.text


def test_the_site_is_told_when_the_request_reached_it_indirectly() -> None:
    central = render_email("contact_site", context(site=SITE, routing=CASES["central"][1], team=""))
    assert "went to the study's central contact" in central.text
    no_sites = render_email(
        "contact_site", context(site=None, routing=CASES["no sites"][1], team="")
    )
    assert "lists no sites yet" in no_sites.text
