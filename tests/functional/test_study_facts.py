"""The study page and the study resource carry what the registry carries: description
(markdown rendered safely), design, interventions, contact, and related studies' facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.ctgov.schemas import parse_study
from app.studies.markdown import to_html
from tests import factories as f
from tests.conftest import load

DESCRIPTION = (
    "Platelets \\<50,000/μL are **not** allowed.\n\n"
    "Visits:\n\n* week 1\n* week 4 <script>alert('x')</script>\n\n"
    "[a trap](javascript:alert(1)) and [the sponsor](https://example.org/trial)"
)


def full_study(**kwargs: Any) -> dict[str, Any]:
    record = f.study(**kwargs)
    protocol = record["protocolSection"]
    protocol["descriptionModule"]["detailedDescription"] = DESCRIPTION
    protocol["designModule"] = {
        "studyType": "INTERVENTIONAL",
        "phases": ["PHASE2", "PHASE3"],
        "designInfo": {
            "allocation": "RANDOMIZED",
            "interventionModel": "PARALLEL",
            "primaryPurpose": "TREATMENT",
            "maskingInfo": {"masking": "DOUBLE", "whoMasked": ["PARTICIPANT", "INVESTIGATOR"]},
        },
        "enrollmentInfo": {"count": 1240, "type": "ESTIMATED"},
    }
    protocol["armsInterventionsModule"] = {
        "interventions": [
            {
                "type": "DRUG",
                "name": "Fictinib",
                "description": "Taken **twice** a day.",
                "otherNames": ["FX-100"],
            },
            {"type": "BEHAVIORAL", "name": "Breathing exercises"},
        ]
    }
    protocol["contactsLocationsModule"]["centralContacts"] = [
        {
            "name": "Pat Example",
            "role": "CONTACT",
            "phone": "+1 312-555-0147",
            "email": "pat@example.org",
        }
    ]
    return record


@pytest.fixture
def studies(session: Session) -> tuple[str, str]:
    main = full_study(title="Fictinib for adults with asthma", conditions=("Asthma",))
    other = f.study(title="Another asthma study", conditions=("Asthma",))
    other["protocolSection"]["designModule"]["phases"] = ["PHASE3"]
    load(session, main, other)
    ids = [r["protocolSection"]["identificationModule"]["nctId"] for r in (main, other)]
    return ids[0], ids[1]


def test_markdown_is_rendered_as_a_reader_expects_and_safely() -> None:
    html = str(to_html(DESCRIPTION))
    assert "&lt;50,000/μL" in html  # the escape shown as the character, not "\<"
    assert "\\<" not in html
    assert "<strong>not</strong>" in html
    assert "<li>week 1</li>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://example.org/trial" rel="nofollow noopener">the sponsor</a>' in html


def test_the_study_page_shows_description_design_interventions_and_contact(
    client: TestClient, studies: tuple[str, str]
) -> None:
    page = client.get(f"/studies/{studies[0]}")
    assert page.status_code == 200
    text = page.text
    assert "Read the full description" in text
    assert "&lt;50,000/μL" in text
    assert "<script>alert" not in text
    for shown in (
        "Phase 2, Phase 3",
        "Randomized",
        "Parallel",
        "Treatment",
        "Double-blind (participant, investigator)",
        "1,240 (expected)",
        "Fictinib",
        "(drug)",
        "Also known as FX-100",
        "<strong>twice</strong>",
        "Breathing exercises",
        "Pat Example",
        "+1 312-555-0147",
        "mailto:pat@example.org",
    ):
        assert shown in text, shown
    # "See also": status, phase and NCT ID of the related study.
    see_also = text[text.index("See also") :]
    assert studies[1] in see_also
    assert "Recruiting · Phase 3" in see_also
    # The call to action again at the end, after the sites.
    assert text.count("Get in touch with the nearest study center") == 2


def test_the_study_resource_has_the_same_facts(
    client: TestClient, studies: tuple[str, str]
) -> None:
    response = client.get(f"/api/v1/studies/{studies[0]}")
    assert response.status_code == 200
    body = response.json()
    assert body["nct_id"] == studies[0]
    assert body["detailed_description"] == DESCRIPTION
    assert body["design"] == {
        "study_type": "INTERVENTIONAL",
        "phases": ["PHASE2", "PHASE3"],
        "allocation": "RANDOMIZED",
        "intervention_model": "PARALLEL",
        "observational_model": None,
        "time_perspective": None,
        "primary_purpose": "TREATMENT",
        "masking": "DOUBLE",
        "who_masked": ["PARTICIPANT", "INVESTIGATOR"],
        "enrollment": 1240,
        "enrollment_type": "ESTIMATED",
    }
    assert [i["name"] for i in body["interventions"]] == ["Fictinib", "Breathing exercises"]
    assert body["interventions"][0]["other_names"] == ["FX-100"]
    assert body["central_contacts"][0]["phone"] == "+1 312-555-0147"
    assert [c["text"] for c in body["eligibility"]["inclusion"]] == ["Adults"]
    assert [c["text"] for c in body["eligibility"]["exclusion"]] == ["Pregnancy"]
    assert body["sites_total"] == 1
    assert body["nearest_sites"][0]["distance_km"] is None
    assert body["related"][0]["nct_id"] == studies[1]
    assert body["related"][0]["phases"] == ["PHASE3"]
    near = client.get(f"/api/v1/studies/{studies[0]}", params={"lat": 41.88, "lon": -87.63})
    assert near.json()["nearest_sites"][0]["distance_km"] is not None


def test_the_study_resource_answers_unknown_and_bad_ids_and_places_in_json(
    client: TestClient, studies: tuple[str, str]
) -> None:
    for nct_id in ("NCT00000000", "not-an-id", "NCT" + "9" * 15):
        response = client.get(f"/api/v1/studies/{nct_id}")
        assert response.status_code in (404, 422), nct_id
        assert response.headers["content-type"].startswith("application/json")
    assert client.get("/api/v1/studies/NCT00000000").json()["detail"] == (
        "No study has the NCT ID 'NCT00000000'"
    )
    assert "is not an NCT ID" in client.get("/api/v1/studies/not-an-id").json()["detail"]
    unknown = client.get(f"/api/v1/studies/{studies[0]}", params={"location": "Nowhereville Zzz"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["type"] == "place"


def test_the_resource_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/studies/{nct_id}" in schema["paths"]
    assert "StudyDetail" in schema["components"]["schemas"]


def test_every_real_record_gives_its_design_and_interventions(shared_studies: Path) -> None:
    """The parser keeps what the registry gives, for every real record."""
    with shared_studies.open() as lines:
        for line in lines:
            raw = json.loads(line)
            record = parse_study(raw)
            protocol = raw["protocolSection"]
            info = protocol.get("designModule", {}).get("designInfo", {})
            if "allocation" in info:
                assert record.design["allocation"] == info["allocation"]
            masking = info.get("maskingInfo", {}).get("masking")
            assert record.design.get("masking") == masking
            named = [
                i["name"]
                for i in protocol.get("armsInterventionsModule", {}).get("interventions", [])
                if i.get("name", "").strip()
            ]
            assert [i["name"] for i in record.interventions] == [n.strip() for n in named]
            html = str(to_html(protocol.get("descriptionModule", {}).get("detailedDescription")))
            assert "<script" not in html
            assert "\\&lt;" not in html


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    nct_id=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    location=st.one_of(st.none(), st.text(max_size=60)),
    lat=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_the_study_resource_never_answers_500(
    client: TestClient, nct_id: str, location: str | None, lat: float | None
) -> None:
    params: dict[str, Any] = {}
    if location is not None:
        params["location"] = location
    if lat is not None:
        params["lat"], params["lon"] = str(lat), "10"
    response = client.get(f"/api/v1/studies/{quote(nct_id, safe='')}", params=params)
    assert response.status_code in (200, 404, 422), (nct_id, params, response.text[:200])


def test_an_age_limit_of_a_hundred_years_or_more_reads_as_no_upper_limit(
    client: TestClient, session: Session
) -> None:
    """Registries write "130 Years" for "no upper limit"; "18 years to 130 years" puzzles."""
    old = f.study(min_age="18 Years", max_age="130 Years")
    young = f.study(min_age="18 Years", max_age="65 Years")
    load(session, old, young)
    old_page, young_page = (
        client.get(f"/studies/{r['protocolSection']['identificationModule']['nctId']}").text
        for r in (old, young)
    )
    assert "18 years and older" in old_page
    assert "130 years" not in old_page
    assert "18 years to 65 years" in young_page
