"""Search through HTTP: the HTML pages and the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.main import create_app
from tests import factories as f
from tests.conftest import load

CRITERIA = """Inclusion Criteria:

1. Adults aged 18 to 65 years
2. Diagnosed with asthma for at least
   6 months
   * confirmed by a doctor
   * using an inhaler

Exclusion Criteria:

- Current smokers
- Pregnant or breastfeeding"""


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


@pytest.fixture
def asthma(session: Session) -> dict[str, Any]:
    record = f.study(
        title="Breathing exercises for adults with asthma",
        conditions=("Asthma",),
        criteria=CRITERIA,
        max_age="65 Years",
        sites=[
            f.site(facility="Far Clinic", city="Springfield", lat=39.78, lon=-89.65),
            f.site(facility="Near Clinic", city="Evanston", lat=42.05, lon=-87.69),
        ],
    )
    other = f.study(
        title="Inhaler timing study",
        conditions=("Asthma",),
        sites=[f.site(facility="Lake Clinic", city="Milwaukee", lat=43.04, lon=-87.91)],
    )
    load(session, record, other)
    return record


def test_home_has_the_search_form(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for field in ("condition", "age", "sex", "location"):
        assert f'name="{field}"' in page.text
    assert 'lang="en"' in page.text


def test_results_page_lists_nearest_first_with_distance(
    client: TestClient, asthma: dict[str, Any]
) -> None:
    page = client.get(
        "/studies",
        params={"condition": "asthma", "lat": 41.88, "lon": -87.63, "age": 40, "radius_km": 250},
    )
    assert page.status_code == 200
    assert "2 studies found" in page.text
    assert page.text.index("Near Clinic") < page.text.index("Lake Clinic")
    assert re.search(r"\d+\.\d km \(\d+\.\d miles\)", page.text)


def test_results_sum_up_the_search_in_one_line_above_the_folded_form(
    client: TestClient, asthma: dict[str, Any]
) -> None:
    params = {"condition": "asthma", "age": "40", "sex": "female", "location": "Chicago, IL"}
    page = client.get("/studies", params={**params, "status": ["RECRUITING", "NOT_YET_RECRUITING"]})
    assert page.status_code == 200
    line = re.search(r'<span class="search-summary">([^<]*)</span>', page.text)
    assert line
    assert line.group(1) == (
        "Asthma · age 40 · Female · near Chicago, IL · within 100 km · opening soon included"
    )
    assert '<details class="change-search">' in page.text  # folded: no errors
    assert 'value="asthma"' in page.text  # the whole form is inside, to change the search

    everything = client.get("/studies")
    assert "All conditions</span>" in everything.text


def test_results_empty_state_gives_tips(client: TestClient, asthma: dict[str, Any]) -> None:
    page = client.get("/studies", params={"condition": "zzzzqqq"})
    assert page.status_code == 200
    assert "0 studies found" in page.text
    assert "check the spelling" in page.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"age": "abc"}, "whole number of years"),
        ({"age": "-1"}, "whole number of years"),
        ({"lat": "200", "lon": "0"}, "position from your device is not valid"),
        ({"page": "0"}, "page of results does not exist"),
        ({"location": "Xyzzyqqplace"}, "We could not find"),
    ],
)
def test_bad_search_gives_a_friendly_form_error(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    page = client.get("/studies", params=params)
    assert page.status_code == 422
    assert message in page.text
    assert 'name="condition"' in page.text  # the form is shown again


def test_every_problem_is_reported_at_once(client: TestClient) -> None:
    page = client.get("/studies", params={"age": "abc", "location": "Xyzzyqqplace"})
    assert page.status_code == 422
    assert "whole number of years" in page.text
    assert "We could not find" in page.text
    assert 'value="abc"' in page.text  # what was typed is kept


def test_ambiguous_place_offers_choices(client: TestClient) -> None:
    page = client.get("/studies", params={"location": "Springfield"})
    assert page.status_code == 422
    assert "several places" in page.text
    assert "Springfield, Illinois" in page.text


def test_study_page(client: TestClient, asthma: dict[str, Any]) -> None:
    page = client.get(f"/studies/{nct(asthma)}", params={"lat": 41.88, "lon": -87.63})
    assert page.status_code == 200
    text = page.text
    assert "Breathing exercises for adults with asthma" in text
    assert "18 years to 65 years" in text
    assert "<li>Adults aged 18 to 65 years</li>" in text
    assert "Diagnosed with asthma for at least 6 months" in text
    assert "<li>confirmed by a doctor</li>" in text
    assert "<li>Current smokers</li>" in text
    assert text.index("Near Clinic") < text.index("Far Clinic")
    assert "Get in touch with the nearest study center" in text
    assert f"/studies/{nct(asthma)}/contact?lat=41.88" in text
    assert "See also" in text
    assert "Inhaler timing study" in text
    assert "may be out of date" not in text


def test_stale_listing_warns(client: TestClient, session: Session) -> None:
    old = f.study(last_update="2023-01-05")
    past_end = f.study(completion="2024-06")
    load(session, old, past_end)
    for record in (old, past_end):
        assert "may be out of date" in client.get(f"/studies/{nct(record)}").text


def test_unknown_study_is_a_404_page(client: TestClient) -> None:
    page = client.get("/studies/NCT00000000")
    assert page.status_code == 404
    assert "no study with the ID" in page.text
    assert client.get("/studies/not-an-id").status_code == 404


def test_api_search_shape(client: TestClient, asthma: dict[str, Any]) -> None:
    response = client.get(
        "/api/v1/studies",
        params={
            "condition": "asthma",
            "location": "Chicago, IL",
            "age": 30,
            "sex": "female",
            "radius_km": 250,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert body["page"] == 1
    assert body["page_size"] == 20
    first = body["results"][0]
    assert first["nct_id"] == nct(asthma)
    assert set(first) == {
        "nct_id",
        "title",
        "overall_status",
        "conditions",
        "sex",
        "min_age",
        "max_age",
        "url",
        "nearest_site",
    }
    assert first["min_age"] == "18 Years"
    assert first["max_age"] == "65 Years"
    assert first["nearest_site"]["facility"] == "Near Clinic"
    assert first["nearest_site"]["distance_km"] == round(first["nearest_site"]["distance_km"], 1)
    assert first["url"].endswith(f"/studies/{nct(asthma)}")


def test_api_without_location_has_no_nearest_site(
    client: TestClient, asthma: dict[str, Any]
) -> None:
    body = client.get("/api/v1/studies", params={"condition": "asthma"}).json()
    assert body["total"] == 2
    assert all(item["nearest_site"] is None for item in body["results"])


@pytest.mark.parametrize(
    "params",
    [
        {"age": "-1"},
        {"age": "abc"},
        {"lat": "200", "lon": "1"},
        {"page": "0"},
        {"page_size": "101"},
        {"status": "BOGUS"},
        {"location": "Xyzzyqqplace"},
        {"location": "Springfield"},
    ],
)
def test_api_bad_parameters_are_422_with_a_message(
    client: TestClient, params: dict[str, str]
) -> None:
    response = client.get("/api/v1/studies", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail
    assert all(item["msg"] for item in detail)


PARAM_NAMES = [
    "condition",
    "age",
    "sex",
    "location",
    "lat",
    "lon",
    "radius_km",
    "status",
    "page",
    "page_size",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-1000, max_value=100000).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", "NaN", "inf", "RECRUITING", "female", "10001", "Paris, France", "0"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.dictionaries(st.sampled_from(PARAM_NAMES), VALUES, max_size=6))
def test_fuzzed_parameters_never_cause_a_server_error(
    client: TestClient, params: dict[str, str]
) -> None:
    for path in ("/studies", "/api/v1/studies"):
        response = client.get(path, params=params)
        assert response.status_code in (200, 422), (path, params, response.text[:300])


def test_results_are_paginated_with_the_configured_page_size(
    settings: Settings, db_sessionmaker: sessionmaker[Session], session: Session
) -> None:
    load(session, *[f.study(conditions=("Gout",)) for _ in range(5)])
    app = create_app(settings.model_copy(update={"page_size": 2}))
    app.state.sessionmaker = db_sessionmaker
    with TestClient(app) as small_pages:
        first = small_pages.get("/studies", params={"condition": "gout"})
        assert "5 studies found" in first.text
        assert "Page 1 of 3" in first.text
        assert first.text.count('class="study-card"') == 2
        last = small_pages.get("/studies", params={"condition": "gout", "page": 3})
        assert last.text.count('class="study-card"') == 1
        assert 'rel="prev"' in last.text
        assert 'rel="next"' not in last.text
        beyond = small_pages.get("/studies", params={"condition": "gout", "page": 4})
        assert beyond.status_code == 200
        assert beyond.url.params["page"] == "3"  # redirected to the last page


def test_a_page_past_the_end_redirects_to_the_last_page(
    settings: Settings, db_sessionmaker: sessionmaker[Session], session: Session
) -> None:
    load(session, *[f.study(conditions=("Gout",)) for _ in range(5)])
    app = create_app(settings.model_copy(update={"page_size": 2}))
    app.state.sessionmaker = db_sessionmaker
    with TestClient(app, follow_redirects=False) as small_pages:
        asked = [
            ("condition", "gout"),
            ("age", "40"),
            ("sex", "any"),
            ("status", "RECRUITING"),
            ("status", "NOT_YET_RECRUITING"),
            ("page", "9999"),
            ("radius_km", "250"),
        ]
        for page in ("9999", "10001", "123456789012"):
            query = urlencode([(k, page if k == "page" else v) for k, v in asked])
            response = small_pages.get(f"/studies?{query}")
            assert response.status_code == 303, page
            location = httpx.URL(response.headers["location"])
            assert location.path == "/studies"
            kept = [(k, v) for k, v in location.params.multi_items() if k != "page"]
            assert kept == [(k, v) for k, v in asked if k != "page"]
            assert location.params["page"] == "3"
            last = small_pages.get(str(location))
            assert last.status_code == 200
            assert "Page 3 of 3" in last.text

        nothing = small_pages.get("/studies", params={"condition": "zzzzqqq", "page": "5"})
        assert nothing.status_code == 303
        assert httpx.URL(nothing.headers["location"]).params["page"] == "1"

        for bad in ("0", "abc", "-2", "1.5"):
            response = small_pages.get("/studies", params={"condition": "gout", "page": bad})
            assert response.status_code == 422, bad
            assert "That page of results does not exist." in response.text


def test_the_api_answers_a_page_past_the_end_with_no_results_and_the_total(
    client: TestClient, session: Session
) -> None:
    load(session, *[f.study(conditions=("Gout",)) for _ in range(3)])
    response = client.get("/api/v1/studies", params={"condition": "gout", "page": 9999})
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["results"]) == (3, 9999, [])
    for bad in ("0", "abc"):
        assert client.get("/api/v1/studies", params={"page": bad}).status_code == 422


def test_stale_warning_says_why(client: TestClient, session: Session) -> None:
    old = f.study(last_update="2023-01-05", completion="2030-01")
    ended = f.study(completion="2024-06-15")
    soon = f.study(status="NOT_YET_RECRUITING", last_update="2023-03")
    load(session, old, ended, soon)
    text = client.get(f"/studies/{nct(old)}").text
    assert "It was last updated on 5 January 2023." in text
    assert "expected to finish" not in text
    text = client.get(f"/studies/{nct(ended)}").text
    assert "The study expected to finish on 15 June 2024, and that date has passed." in text
    assert "last updated on" not in text.split("may be out of date")[1].split("</div>")[0]
    text = client.get(f"/studies/{nct(soon)}").text
    assert "It was last updated in March 2023." in text


def test_only_contactable_studies_offer_to_get_in_touch(
    client: TestClient, session: Session
) -> None:
    invited = f.study(
        status="ENROLLING_BY_INVITATION", sites=[f.site(status="ENROLLING_BY_INVITATION")]
    )
    closed_sites = f.study(sites=[f.site(status="COMPLETED")])
    open_study = f.study()
    load(session, invited, closed_sites, open_study)
    cta = "Get in touch with the nearest study center"
    assert cta not in client.get(f"/studies/{nct(invited)}").text
    assert "by invitation only" in client.get(f"/studies/{nct(invited)}").text
    assert cta not in client.get(f"/studies/{nct(closed_sites)}").text
    assert cta in client.get(f"/studies/{nct(open_study)}").text


def test_head_requests_and_odd_radius_values(client: TestClient, asthma: dict[str, Any]) -> None:
    assert client.head("/").status_code == 200
    assert client.head("/healthz").status_code == 200
    page = client.get(
        "/studies", params={"condition": "asthma", "lat": 41.88, "lon": -87.63, "radius_km": 30}
    )
    assert '<option value="30" selected>30 km</option>' in page.text
    assert "within 30 km of" in page.text
    page = client.get("/studies", params={"lat": 41.88, "lon": -87.63, "radius_km": 0.5})
    assert "within 0.5 km of" in page.text


def test_ambiguous_place_choices_are_offered_beside_other_errors(client: TestClient) -> None:
    page = client.get("/studies", params={"age": "abc", "location": "Springfield"})
    assert page.status_code == 422
    assert "Springfield, Illinois, United States" in page.text


def test_unreadable_condition_is_a_form_error(client: TestClient) -> None:
    page = client.get("/studies", params={"condition": "乳腺癌"})
    assert page.status_code == 422
    assert "English letters" in page.text
    api = client.get("/api/v1/studies", params={"condition": "!!!"})
    assert api.status_code == 422


def test_a_device_position_is_called_your_location(
    client: TestClient, asthma: dict[str, Any]
) -> None:
    here = {"lat": "42.3601", "lon": "-71.0589"}
    pages = {
        "results": client.get("/studies", params={**here, "radius_km": 2000}),
        "study": client.get(f"/studies/{nct(asthma)}", params=here),
        "sites": client.get(f"/studies/{nct(asthma)}/sites", params=here),
        "summary": client.get(f"/studies/{nct(asthma)}/summary", params=here),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        assert "42.3601, -71.0589" not in page.text, name
        assert "your location" in page.text, name
    assert "within 2000 km of your location" in pages["results"].text
    assert 'placeholder="Using your location"' in pages["results"].text


def test_studies_that_open_soon_are_added_by_the_box_and_offered_when_nothing_recruits(
    client: TestClient, session: Session
) -> None:
    """The box adds NOT_YET_RECRUITING to RECRUITING, never replaces it; every status
    asked for is kept on the form; the empty state offers the ones that open soon."""
    from tests import factories as factory
    from tests.conftest import load as load_records

    soon = factory.study(
        title="Zebrafish-inspired rehab, opening soon",
        conditions=("Gout",),
        status="NOT_YET_RECRUITING",
    )
    open_now = factory.study(title="Gout diet study", conditions=("Gout",))
    load_records(session, soon, open_now)
    first = client.get("/studies", params={"condition": "gout"})
    assert "Gout diet study" in first.text
    assert "opening soon" not in first.text
    assert re.search(r'<input type="hidden" name="status" value="RECRUITING">', first.text)
    assert 'id="open_soon" name="status" type="checkbox" value="NOT_YET_RECRUITING">' in first.text
    both = client.get(
        "/studies",
        params=[("condition", "gout"), ("status", "RECRUITING"), ("status", "NOT_YET_RECRUITING")],
    )
    assert "Gout diet study" in both.text
    assert "opening soon" in both.text
    assert 'value="NOT_YET_RECRUITING" checked' in both.text
    # A status given in the link is kept by the form when it is sent again.
    invited = client.get(
        "/studies", params={"condition": "gout", "status": "ENROLLING_BY_INVITATION"}
    )
    assert '<input type="hidden" name="status" value="ENROLLING_BY_INVITATION">' in invited.text
    assert 'name="status" value="RECRUITING"' not in invited.text
    # Nothing recruits for this condition, but a study opens soon: the empty state says so.
    only_soon = factory.study(
        title="Rare thing study", conditions=("Xyloma",), status="NOT_YET_RECRUITING"
    )
    load_records(session, only_soon)
    empty = client.get("/studies", params={"condition": "xyloma"})
    assert "0 studies found" in empty.text
    offered = re.search(r'<a href="([^"]+)">include the 1 study that opens soon</a>', empty.text)
    assert offered
    followed = client.get(offered.group(1).replace("&amp;", "&"))
    assert "Rare thing study" in followed.text


def test_a_recruiting_study_whose_nearest_site_has_not_opened_says_so(
    client: TestClient, session: Session
) -> None:
    """The study recruits elsewhere; near Beijing its site opens soon: the card says both."""
    from tests import factories as factory
    from tests.conftest import load as load_records

    beijing = factory.site(
        facility="Capital Example Hospital",
        city="Beijing",
        state=None,
        zip=None,
        country="China",
        lat=39.9,
        lon=116.4,
        status="NOT_YET_RECRUITING",
    )
    load_records(
        session,
        factory.study(
            title="Diabetes diet study", conditions=("Diabetes",), sites=[beijing, factory.site()]
        ),
    )
    page = client.get(
        "/studies",
        params=[
            ("condition", "diabetes"),
            ("location", "Beijing"),
            ("status", "RECRUITING"),
            ("status", "NOT_YET_RECRUITING"),
        ],
    )
    card = page.text.split('class="study-card"')[1]
    assert "Capital Example Hospital" in card
    assert ">Recruiting</span>" in card
    assert ">Not yet recruiting here</span>" in card
    api = client.get(
        "/api/v1/studies",
        params={
            "condition": "diabetes",
            "location": "Beijing",
            "status": "RECRUITING,NOT_YET_RECRUITING",
        },
    )
    assert api.json()["results"][0]["nearest_site"]["status"] == "NOT_YET_RECRUITING"
