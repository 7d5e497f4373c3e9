"""Help for patients: the guide to clinical trials and the printable summary for a doctor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import load

CONTACT = {"name": "Dana Example", "phone": "+1 312-555-0147", "email": "dana@example.org"}


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def test_the_guide_answers_the_questions_patients_ask(client: TestClient) -> None:
    page = client.get("/learn")
    assert page.status_code == 200
    for heading in (
        "What is a clinical trial?",
        "Why do people take part?",
        "How long does it take?",
        "Will I be paid, or have to pay?",
        "Is it safe?",
        "What happens after I get in touch?",
    ):
        assert heading in page.text


@pytest.mark.parametrize(
    "path", ["/", "/studies?condition=asthma", "/learn", "/studies/NCT00000000"]
)
def test_every_public_page_links_to_the_guide(client: TestClient, path: str) -> None:
    assert re.search(r'href="[^"]*/learn">Learn more about clinical trials<', client.get(path).text)


def test_summary_for_the_doctor(client: TestClient, session: Session) -> None:
    record = f.study(
        title="Breathing exercises for adults with asthma",
        max_age="65 Years",
        sites=[
            f.site(facility="Far Clinic", lat=39.78, lon=-89.65, contacts=[CONTACT]),
            f.site(facility="Near Clinic", lat=42.05, lon=-87.69, contacts=[CONTACT]),
        ],
    )
    load(session, record)
    study_page = client.get(f"/studies/{nct(record)}", params={"lat": 41.88, "lon": -87.63}).text
    assert "Print or save this summary for your doctor" in study_page
    page = client.get(f"/studies/{nct(record)}/summary", params={"lat": 41.88, "lon": -87.63})
    assert page.status_code == 200
    text = page.text
    assert "Breathing exercises for adults with asthma" in text
    assert "18 years to 65 years" in text
    assert "<li>Adults</li>" in text
    assert "<strong>Near Clinic</strong>" in text
    assert "Dana Example, phone +1 312-555-0147, dana@example.org" in text
    assert "Questions to ask" in text
    assert "Far Clinic" not in text


def test_summary_of_an_unknown_study_is_404(client: TestClient) -> None:
    assert client.get("/studies/NCT00000000/summary").status_code == 404


def test_the_study_page_stays_light(client: TestClient, session: Session) -> None:
    """Page weight: the study page's HTML, CSS and JavaScript under 60 KB uncompressed."""
    record = f.study(sites=[f.site(contacts=[CONTACT]) for _ in range(5)])
    load(session, record)
    page = client.get(f"/studies/{nct(record)}", params={"lat": 41.88, "lon": -87.63})
    assets = re.findall(r'(?:href|src)="(?:https?://[^/]+)?(/static/[^"]+)"', page.text)
    assert sorted(a.rsplit("/", 1)[-1] for a in assets) == ["favicon.svg", "site.css", "site.js"]
    total = len(page.content) + sum(len(client.get(a).content) for a in assets)
    assert total < 60 * 1024, total
