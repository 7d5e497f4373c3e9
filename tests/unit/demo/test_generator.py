"""Tests for the fictional demo-study generator (app.demo.generator)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from app.demo.generator import (
    CITIES,
    CONDITIONS,
    MAX_STUDIES,
    REFERENCE_DATE,
    generate_studies,
    nct_id,
    vocabulary_sizes,
)
from app.studies.rules import NCT_ID, age_in_years, is_fictional

Study = dict[str, Any]

SAMPLE_SIZE = 5_000
UNIQUE_SIZE = 20_000
REF = REFERENCE_DATE.isoformat()
YEAR_BEFORE_REF = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 1).isoformat()

DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$")
FULL_DATE_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
AGE_RE = re.compile(r"^\d+ (Year|Years|Month|Months|Week|Weeks|Day|Days)$")
NCT_RE = re.compile(r"^NCT9\d{7}$")
MESH_ID_RE = re.compile(r"^D0\d{5}$")
EXAMPLE_DOMAINS = ("@example.org", "@example.com", "@example.net")

REQUIRED_PATHS: tuple[tuple[str, ...], ...] = (
    ("protocolSection", "identificationModule", "nctId"),
    ("protocolSection", "identificationModule", "briefTitle"),
    ("protocolSection", "identificationModule", "officialTitle"),
    ("protocolSection", "identificationModule", "organization", "fullName"),
    ("protocolSection", "statusModule", "overallStatus"),
    ("protocolSection", "statusModule", "startDateStruct", "date"),
    ("protocolSection", "statusModule", "primaryCompletionDateStruct", "date"),
    ("protocolSection", "statusModule", "primaryCompletionDateStruct", "type"),
    ("protocolSection", "statusModule", "completionDateStruct", "date"),
    ("protocolSection", "statusModule", "completionDateStruct", "type"),
    ("protocolSection", "statusModule", "studyFirstPostDateStruct", "date"),
    ("protocolSection", "statusModule", "lastUpdatePostDateStruct", "date"),
    ("protocolSection", "sponsorCollaboratorsModule", "leadSponsor", "name"),
    ("protocolSection", "descriptionModule", "briefSummary"),
    ("protocolSection", "conditionsModule", "conditions"),
    ("protocolSection", "designModule", "studyType"),
    ("protocolSection", "eligibilityModule", "eligibilityCriteria"),
    ("protocolSection", "eligibilityModule", "healthyVolunteers"),
    ("protocolSection", "eligibilityModule", "stdAges"),
    ("protocolSection", "contactsLocationsModule", "locations"),
    ("derivedSection", "conditionBrowseModule", "meshes"),
    ("derivedSection", "conditionBrowseModule", "ancestors"),
    ("hasResults",),
)


@pytest.fixture(scope="module")
def studies() -> list[Study]:
    return list(generate_studies(SAMPLE_SIZE, seed=11))


def _protocols(studies: list[Study]) -> Iterator[dict[str, Any]]:
    for study in studies:
        yield study["protocolSection"]


def _sites(studies: list[Study]) -> Iterator[dict[str, Any]]:
    for protocol in _protocols(studies):
        yield from protocol["contactsLocationsModule"]["locations"]


def _share(counter: Counter[Any], key: Any) -> float:
    return counter[key] / sum(counter.values())


# Ages in years as the site reads them: the generator and the search share one parser.
_years = age_in_years

# sha256 of json.dumps(list(generate_studies(200, seed=1)), sort_keys=True, ensure_ascii=False),
# computed with the generator before its tables moved into data files. Any change to the
# generator or to app/demo/data/ that alters its output changes this; when the change is
# deliberate, recompute the digest and say why in the commit.
GOLDEN_SHA256 = "777dd8e258fd820cee6e3f7d32b82cdac09b793bc077e2bd2b1d666bdc171226"


# -- determinism and IDs -------------------------------------------------------------------


def test_same_seed_gives_identical_studies() -> None:
    assert list(generate_studies(300, seed=5)) == list(generate_studies(300, seed=5))


def test_output_matches_the_golden_digest() -> None:
    text = json.dumps(list(generate_studies(200, seed=1)), sort_keys=True, ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == GOLDEN_SHA256


def test_shorter_run_is_prefix_of_longer_run() -> None:
    assert list(generate_studies(50, seed=2)) == list(generate_studies(120, seed=2))[:50]


def test_different_seeds_give_different_studies() -> None:
    first = list(generate_studies(50, seed=1))
    second = list(generate_studies(50, seed=2))
    titles_first = [s["protocolSection"]["identificationModule"]["briefTitle"] for s in first]
    titles_second = [s["protocolSection"]["identificationModule"]["briefTitle"] for s in second]
    assert titles_first != titles_second
    assert (
        first[0]["protocolSection"]["identificationModule"]["nctId"]
        != (second[0]["protocolSection"]["identificationModule"]["nctId"])
    )


def test_default_seed_is_zero() -> None:
    assert list(generate_studies(5)) == list(generate_studies(5, seed=0))


def test_output_is_fresh_objects_each_call() -> None:
    first = next(iter(generate_studies(1, seed=3)))
    first["protocolSection"]["conditionsModule"]["conditions"].append("Mutated")
    second = next(iter(generate_studies(1, seed=3)))
    assert "Mutated" not in second["protocolSection"]["conditionsModule"]["conditions"]


def test_nct_ids_are_unique_and_fictional() -> None:
    # Streamed, keeping only the IDs: holding 20,000 studies would just slow the GC down.
    ids = [
        s["protocolSection"]["identificationModule"]["nctId"]
        for s in generate_studies(UNIQUE_SIZE, seed=11)
    ]
    assert len(ids) == UNIQUE_SIZE
    assert len(set(ids)) == UNIQUE_SIZE
    assert all(NCT_RE.match(i) for i in ids)
    assert all(NCT_ID.match(i) and is_fictional(i) for i in ids)


def test_nct_id_follows_seed_digit_and_index() -> None:
    assert nct_id(0, 0) == "NCT90000000"
    assert nct_id(3, 42) == "NCT93000042"
    assert nct_id(13, 42) == nct_id(3, 42)
    assert nct_id(7, 999_999) == "NCT97999999"


def test_nct_ids_stay_unique_past_a_million() -> None:
    indices = [*range(0, 50), *range(999_990, 1_000_010), *range(MAX_STUDIES - 20, MAX_STUDIES)]
    for seed in (0, 4, 9):
        ids = [nct_id(seed, i) for i in indices]
        assert len(set(ids)) == len(ids)
        assert all(NCT_RE.match(i) for i in ids)


def test_count_is_validated() -> None:
    assert list(generate_studies(0)) == []
    with pytest.raises(ValueError, match="negative"):
        generate_studies(-1)
    with pytest.raises(ValueError, match="at most"):
        generate_studies(MAX_STUDIES + 1)


# -- shape ------------------------------------------------------------------------------


def test_every_study_has_required_keys(studies: list[Study]) -> None:
    for study in studies:
        for path in REQUIRED_PATHS:
            node: Any = study
            for key in path:
                assert key in node, (study["protocolSection"]["identificationModule"], path)
                node = node[key]
        assert study["hasResults"] is False


def test_studies_are_plain_json(studies: list[Study]) -> None:
    sample = studies[:200]
    assert json.loads(json.dumps(sample, ensure_ascii=False)) == sample


def test_study_type_and_phases(studies: list[Study]) -> None:
    allowed = {"NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"}
    types: Counter[str] = Counter()
    for protocol in _protocols(studies):
        design = protocol["designModule"]
        types[design["studyType"]] += 1
        if design["studyType"] == "INTERVENTIONAL":
            assert design["phases"]
            assert set(design["phases"]) <= allowed
        else:
            assert design["studyType"] == "OBSERVATIONAL"
            assert "phases" not in design
    assert 0.7 < _share(types, "INTERVENTIONAL") < 0.9


def test_conditions_keywords_and_mesh(studies: list[Study]) -> None:
    for study in studies:
        module = study["protocolSection"]["conditionsModule"]
        assert 1 <= len(module["conditions"]) <= 3
        assert len(set(module["conditions"])) == len(module["conditions"])
        assert 1 <= len(module.get("keywords", ["x"])) <= 4
        browse = study["derivedSection"]["conditionBrowseModule"]
        assert len(browse["meshes"]) == len(module["conditions"])
        assert browse["ancestors"]
        for entry in browse["meshes"] + browse["ancestors"]:
            assert set(entry) == {"id", "term"}
            assert MESH_ID_RE.match(entry["id"])


def test_mesh_ids_are_consistent_across_vocabulary() -> None:
    term_by_id: dict[str, str] = {}
    for condition in CONDITIONS:
        for mesh_id, term in (condition.mesh, *condition.ancestors):
            assert term_by_id.setdefault(mesh_id, term) == term


# -- statuses and dates -------------------------------------------------------------------


def test_status_mix(studies: list[Study]) -> None:
    statuses = Counter(p["statusModule"]["overallStatus"] for p in _protocols(studies))
    assert 0.55 < _share(statuses, "RECRUITING") < 0.65
    assert 0.12 < _share(statuses, "NOT_YET_RECRUITING") < 0.18
    assert 0.03 < _share(statuses, "ENROLLING_BY_INVITATION") < 0.07
    assert 0.075 < _share(statuses, "ACTIVE_NOT_RECRUITING") < 0.125
    closed = sum(_share(statuses, s) for s in ("COMPLETED", "TERMINATED", "WITHDRAWN", "SUSPENDED"))
    assert 0.07 < closed < 0.13
    assert set(statuses) <= {
        "RECRUITING",
        "NOT_YET_RECRUITING",
        "ENROLLING_BY_INVITATION",
        "ACTIVE_NOT_RECRUITING",
        "COMPLETED",
        "TERMINATED",
        "WITHDRAWN",
        "SUSPENDED",
    }


def test_dates_are_well_formed_and_ordered(studies: list[Study]) -> None:
    for protocol in _protocols(studies):
        status = protocol["statusModule"]
        first_post = status["studyFirstPostDateStruct"]["date"]
        last_update = status["lastUpdatePostDateStruct"]["date"]
        assert FULL_DATE_RE.match(first_post)
        assert FULL_DATE_RE.match(last_update)
        assert first_post <= last_update <= REF
        start = status["startDateStruct"]["date"]
        primary = status["primaryCompletionDateStruct"]["date"]
        completion = status["completionDateStruct"]["date"]
        for value in (start, primary, completion):
            assert DATE_RE.match(value)
        assert start[:7] <= primary[:7] <= completion[:7]
        assert status["primaryCompletionDateStruct"]["type"] in {"ACTUAL", "ESTIMATED"}
        if status["overallStatus"] == "NOT_YET_RECRUITING":
            assert start >= REF[:7]  # "YYYY-MM" of a later day in the reference month


def test_dates_are_mostly_recent_with_some_stale_recruiting(studies: list[Study]) -> None:
    recent = sum(
        p["statusModule"]["lastUpdatePostDateStruct"]["date"] >= YEAR_BEFORE_REF
        for p in _protocols(studies)
    )
    assert recent / len(studies) > 0.8
    recruiting = [
        p["statusModule"]
        for p in _protocols(studies)
        if p["statusModule"]["overallStatus"] == "RECRUITING"
    ]
    stale = sum(
        s["lastUpdatePostDateStruct"]["date"] < YEAR_BEFORE_REF
        or s["primaryCompletionDateStruct"]["date"] < REF
        for s in recruiting
    )
    assert 0.025 < stale / len(recruiting) < 0.08


# -- eligibility --------------------------------------------------------------------------


def test_sex_mix(studies: list[Study]) -> None:
    sexes = Counter(p["eligibilityModule"].get("sex") for p in _protocols(studies))
    assert 0.75 < _share(sexes, "ALL") < 0.85
    assert 0.11 < _share(sexes, "FEMALE") < 0.17
    assert 0.03 < _share(sexes, "MALE") < 0.07
    assert 0.003 < _share(sexes, None) < 0.025


def test_sex_matches_sex_specific_conditions(studies: list[Study]) -> None:
    required = {c.name: c.sex for c in CONDITIONS if c.sex}
    assert required["Breast Cancer"] == "FEMALE"
    assert required["Prostate Cancer"] == "MALE"
    assert required["Preeclampsia"] == "FEMALE"
    checked = 0
    for protocol in _protocols(studies):
        primary = protocol["conditionsModule"]["conditions"][0]
        if primary in required:
            checked += 1
            assert protocol["eligibilityModule"]["sex"] == required[primary]
            for other in protocol["conditionsModule"]["conditions"][1:]:
                assert required.get(other, required[primary]) == required[primary]
    assert checked > 100


def test_age_mix_and_std_ages(studies: list[Study]) -> None:
    minimums: Counter[str | None] = Counter()
    for protocol in _protocols(studies):
        eligibility = protocol["eligibilityModule"]
        low, high = eligibility.get("minimumAge"), eligibility.get("maximumAge")
        minimums[low] += 1
        for age in (low, high):
            assert age is None or AGE_RE.match(age)
        low_years, high_years = _years(low), _years(high)
        if low_years is not None and high_years is not None:
            assert low_years < high_years
        expected = []
        if low_years is None or low_years < 18:
            expected.append("CHILD")
        if (low_years is None or low_years < 65) and (high_years is None or high_years >= 18):
            expected.append("ADULT")
        if high_years is None or high_years >= 65:
            expected.append("OLDER_ADULT")
        assert eligibility["stdAges"] == expected
    assert 0.55 < _share(minimums, "18 Years") < 0.8
    assert 0.01 < _share(minimums, None) < 0.08
    child_mins = {"2 Weeks", "30 Days", "28 Days", "6 Months", "1 Year", "1 Month"}
    assert sum(minimums[a] for a in child_mins) / len(studies) > 0.03


def test_every_age_reads_with_the_sites_age_parser(studies: list[Study]) -> None:
    ages = {
        protocol["eligibilityModule"].get(key)
        for protocol in _protocols(studies)
        for key in ("minimumAge", "maximumAge")
    } - {None}
    assert len(ages) > 20
    for age in ages:
        assert age_in_years(age) is not None, age


def test_paediatric_conditions_get_child_ages(studies: list[Study]) -> None:
    paediatric = {c.name for c in CONDITIONS if c.ages == "child"}
    assert {"Neuroblastoma", "Attention Deficit Hyperactivity Disorder"} <= paediatric
    checked = 0
    for protocol in _protocols(studies):
        if protocol["conditionsModule"]["conditions"][0] in paediatric:
            checked += 1
            eligibility = protocol["eligibilityModule"]
            assert "CHILD" in eligibility["stdAges"]
            high = _years(eligibility.get("maximumAge"))
            assert high is not None
            assert high <= 25
    assert checked > 50


def test_healthy_volunteers_mostly_false(studies: list[Study]) -> None:
    healthy = sum(p["eligibilityModule"]["healthyVolunteers"] for p in _protocols(studies))
    assert 0.02 < healthy / len(studies) < 0.15


def test_eligibility_text_is_messy_in_several_styles(studies: list[Study]) -> None:
    texts = [p["eligibilityModule"]["eligibilityCriteria"] for p in _protocols(studies)]
    assert all(t.strip() for t in texts)
    assert any(t.startswith("Inclusion Criteria:\n\n* ") for t in texts)
    assert any(t.startswith("INCLUSION CRITERIA:") for t in texts)
    assert any("\n1. " in t for t in texts)
    assert any("\n1\\. " in t for t in texts)
    assert any("\n- " in t for t in texts)
    assert any("\n  * " in t for t in texts)
    assert any("\\>=" in t for t in texts)
    assert any("Exclusion" not in t and "EXCLUSION" not in t for t in texts)
    assert any("Exclusion Criteria:\n\n" in t for t in texts)


# -- text ---------------------------------------------------------------------------------


def test_every_summary_says_fictional(studies: list[Study]) -> None:
    for protocol in _protocols(studies):
        summary = protocol["descriptionModule"]["briefSummary"]
        assert "fictional" in summary.lower()
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", summary) if s]
        assert 2 <= len(sentences) <= 4, summary


def test_titles_and_acronyms(studies: list[Study]) -> None:
    with_acronym = 0
    for protocol in _protocols(studies):
        identification = protocol["identificationModule"]
        assert identification["briefTitle"]
        assert len(identification["officialTitle"]) >= len(identification["briefTitle"]) // 2
        with_acronym += "acronym" in identification
        sponsor = protocol["sponsorCollaboratorsModule"]["leadSponsor"]["name"]
        assert sponsor
    assert 0.15 < with_acronym / len(studies) < 0.45


# -- contacts and locations -----------------------------------------------------------------


def test_every_email_uses_an_example_domain(studies: list[Study]) -> None:
    emails = 0
    for protocol in _protocols(studies):
        module = protocol["contactsLocationsModule"]
        for contact in module.get("centralContacts", []):
            assert contact["role"] == "CONTACT"
            if "email" in contact:
                emails += 1
                assert contact["email"].endswith(EXAMPLE_DOMAINS)
                assert contact["email"].isascii()
        for site in module["locations"]:
            for contact in site.get("contacts", []):
                if "email" in contact:
                    emails += 1
                    assert contact["email"].endswith("@example.org")
                    assert contact["email"].isascii()
    assert emails > len(studies)


def test_north_american_phones_are_fictional(studies: list[Study]) -> None:
    checked = 0
    for protocol in _protocols(studies):
        for site in protocol["contactsLocationsModule"]["locations"]:
            if site["country"] not in ("United States", "Canada"):
                continue
            for contact in site.get("contacts", []):
                if "phone" in contact:
                    checked += 1
                    assert re.search(r"555-01\d\d$", contact["phone"]), contact["phone"]
    assert checked > 1000


def test_central_contacts_count(studies: list[Study]) -> None:
    for protocol in _protocols(studies):
        assert len(protocol["contactsLocationsModule"].get("centralContacts", [1])) in (1, 2)


def test_location_counts_are_skewed(studies: list[Study]) -> None:
    counts = Counter(len(p["contactsLocationsModule"]["locations"]) for p in _protocols(studies))
    assert min(counts) >= 1
    assert max(counts) <= 15
    small = sum(counts[n] for n in range(1, 5)) / len(studies)
    assert 0.7 < small < 0.85
    assert sum(counts[n] for n in range(10, 16)) > 0


def test_geo_points_are_valid_and_near_their_city(studies: list[Study]) -> None:
    by_name = {(c.city, c.state, c.country): c for c in CITIES}
    sites = list(_sites(studies))
    missing = 0
    for site in sites:
        point = site.get("geoPoint")
        if point is None:
            missing += 1
            continue
        assert -90.0 <= point["lat"] <= 90.0
        assert -180.0 <= point["lon"] <= 180.0
        city = by_name[site["city"], site.get("state"), site["country"]]
        assert abs(point["lat"] - city.lat) <= 0.0501
        assert abs(point["lon"] - city.lon) <= 0.0501
    assert 0.01 < missing / len(sites) < 0.06


def test_site_status_and_contacts_mix(studies: list[Study]) -> None:
    recruiting_sites = [
        site
        for p in _protocols(studies)
        if p["statusModule"]["overallStatus"] == "RECRUITING"
        for site in p["contactsLocationsModule"]["locations"]
    ]
    statuses = Counter(site.get("status") for site in recruiting_sites)
    assert 0.75 < _share(statuses, "RECRUITING") < 0.85
    assert 0.06 < _share(statuses, None) < 0.14
    sites = list(_sites(studies))
    without_contacts = sum("contacts" not in s for s in sites) / len(sites)
    assert 0.06 < without_contacts < 0.14
    for site in sites:
        assert site["facility"]
        assert site["city"]
        assert site["country"]
        assert 1 <= len(site.get("contacts", [1])) <= 2


def test_sites_span_several_countries(studies: list[Study]) -> None:
    countries = Counter(site["country"] for site in _sites(studies))
    assert 0.4 < _share(countries, "United States") < 0.75
    assert {"China", "Canada", "United Kingdom", "Germany", "Japan"} <= set(countries)


# -- vocabulary ---------------------------------------------------------------------------


def test_vocabulary_sizes() -> None:
    sizes = vocabulary_sizes()
    assert 80 <= sizes["conditions"] <= 150
    assert 90 <= sizes["cities"] <= 130
    assert sizes["countries"] >= 15


def test_vocabulary_includes_required_names() -> None:
    names = {c.name for c in CONDITIONS}
    assert {
        "Type 2 Diabetes Mellitus",
        "Asthma",
        "Breast Cancer",
        "Non-small Cell Lung Cancer",
        "Hypertension",
        "Alzheimer Disease",
        "Crohn Disease",
        "Major Depressive Disorder",
        "Sjögren's Syndrome",
        "Ménière's Disease",
    } <= names
    places = {(c.city, c.state, c.country) for c in CITIES}
    assert ("Springfield", "Illinois", "United States") in places
    cities = {c.city for c in CITIES}
    assert {"Beijing", "Shanghai", "Xinxiang"} <= cities
    for city in CITIES:
        assert -90 < city.lat < 90
        assert -180 < city.lon < 180
