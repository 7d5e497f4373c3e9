"""The ClinicalTrials.gov importer: every input form, real records, idempotence, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ctgov.importer import import_records, read_records
from app.studies.models import Site, Study
from app.studies.rules import age_in_years
from tests import factories as f
from tests.conftest import NOW, load


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def test_every_accepted_form_is_read(tmp_path: Path) -> None:
    one, two, three, four, five = (f.study() for _ in range(5))
    (tmp_path / "single.json").write_text(json.dumps(one))
    (tmp_path / "list.json").write_text(json.dumps([two]))
    (tmp_path / "page.json").write_text(json.dumps({"studies": [three], "nextPageToken": "x"}))
    (tmp_path / "lines.jsonl").write_text(json.dumps(four) + "\n\n")
    (tmp_path / "ignored.txt").write_text("not a study")
    stdin = io.StringIO(json.dumps(five) + "\n")
    records = list(read_records([str(tmp_path), "-"], stdin=stdin))
    assert [r.error for r in records] == [None] * 5
    assert {nct(r.data) for r in records} == {nct(s) for s in (one, two, three, four, five)}
    positions = {r.source.rsplit("/", 1)[-1]: r.position for r in records}
    assert positions["lines.jsonl"] == "line 1"
    assert positions["list.json"] == "index 0"
    assert positions["page.json"] == "studies[0]"


def test_json_lines_without_the_suffix_are_read(tmp_path: Path) -> None:
    a, b = f.study(), f.study()
    path = tmp_path / "export.json"
    path.write_text(json.dumps(a) + "\n" + json.dumps(b) + "\n")
    assert [nct(r.data) for r in read_records([str(path)])] == [nct(a), nct(b)]


def test_bad_records_are_reported_with_file_and_line_and_the_rest_load(
    session: Session, tmp_path: Path
) -> None:
    good = f.study()
    no_id = f.study()
    del no_id["protocolSection"]["identificationModule"]["nctId"]
    bad_age = f.study(min_age="abc")
    late_good = f.study()
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps(no_id),
        json.dumps(bad_age),
        json.dumps(late_good),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")

    report = import_records(session, read_records([str(path)]), now=NOW)

    assert report.inserted == 2
    reasons = {r.position: (r.nct_id, r.reason) for r in report.rejected}
    assert set(reasons) == {"line 2", "line 3", "line 4"}
    assert "invalid JSON" in reasons["line 2"][1]
    assert "nctId" in reasons["line 3"][1]
    assert reasons["line 4"][0] == nct(bad_age)
    assert '"abc"' in reasons["line 4"][1]
    assert all(str(path) in str(r) for r in report.rejected)
    assert session.scalar(select(func.count()).select_from(Study)) == 2


def test_missing_file_is_reported(session: Session, tmp_path: Path) -> None:
    report = import_records(session, read_records([str(tmp_path / "nope.json")]), now=NOW)
    assert report.rejected[0].reason == "no such file or directory"


def test_reimport_is_idempotent_and_removed_sites_disappear(session: Session) -> None:
    keep = f.site(facility="Lakeside Clinic", lat=41.9, lon=-87.6)
    drop = f.site(facility="Harbor Hospital", lat=42.0, lon=-87.7)
    record = f.study(sites=[keep, drop])
    assert load(session, record).inserted == 1
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    kept_id = next(s.id for s in study.sites if s.facility == "Lakeside Clinic")
    stamp = study.updated_at

    again = load(session, record)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    session.refresh(study)
    assert study.updated_at == stamp

    record["protocolSection"]["contactsLocationsModule"]["locations"] = [keep]
    record["protocolSection"]["identificationModule"]["briefTitle"] = "A renamed fictional study"
    changed = load(session, record)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 0)
    session.expire_all()
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    assert study.brief_title == "A renamed fictional study"
    assert [(s.id, s.facility) for s in study.sites] == [(kept_id, "Lakeside Clinic")]


def test_age_normalisation() -> None:
    assert age_in_years("18 Years") == 18
    assert age_in_years("1 Year") == 1
    assert age_in_years("6 Months") == pytest.approx(0.5)
    assert age_in_years("2 Weeks") == pytest.approx(14 / 365.25)
    assert age_in_years("30 Days") == pytest.approx(30 / 365.25)
    assert age_in_years(None) is None
    assert age_in_years("N/A") is None
    for bad in ("abc", "18", "Years", "18 Parsecs"):
        with pytest.raises(ValueError, match="age"):
            age_in_years(bad)


def test_every_real_record_imports_and_fields_match_source(
    session: Session, shared_studies: Path
) -> None:
    report = import_records(session, read_records([str(shared_studies)]), now=NOW)
    lines = shared_studies.read_text().splitlines()
    assert report.rejected == []
    assert report.inserted == len(lines)

    for line in lines[:: max(1, len(lines) // 40)]:
        raw = json.loads(line)
        p = raw["protocolSection"]
        study = session.scalars(
            select(Study).where(Study.nct_id == p["identificationModule"]["nctId"])
        ).one()
        assert study.brief_title == p["identificationModule"]["briefTitle"].strip()
        assert study.overall_status == p["statusModule"]["overallStatus"]
        assert study.conditions == p.get("conditionsModule", {}).get("conditions", [])
        elig = p.get("eligibilityModule", {})
        assert study.sex == elig.get("sex", "ALL")
        assert study.min_age == elig.get("minimumAge")
        assert study.max_age == elig.get("maximumAge")
        assert study.eligibility_criteria == elig.get("eligibilityCriteria")
        meshes = raw.get("derivedSection", {}).get("conditionBrowseModule", {}).get("meshes", [])
        assert study.mesh_terms == list(dict.fromkeys(m["term"] for m in meshes))
        locations = p.get("contactsLocationsModule", {}).get("locations", [])
        assert len(study.sites) == len(locations)
        for site, loc in zip(study.sites, locations, strict=True):
            assert site.facility == loc.get("facility")
            assert site.city == loc.get("city")
            assert site.country == loc.get("country")
            assert site.status == loc.get("status")
            geo = loc.get("geoPoint")
            assert (site.lat, site.lon) == ((geo["lat"], geo["lon"]) if geo else (None, None))
            emails = [c.get("email") for c in loc.get("contacts", []) if c.get("email")]
            assert [c["email"] for c in site.contacts if "email" in c] == emails

    again = import_records(session, read_records([str(shared_studies)]), now=NOW)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(lines))
    site_count = session.scalar(select(func.count()).select_from(Site))
    assert site_count == sum(
        len(
            json.loads(x)["protocolSection"].get("contactsLocationsModule", {}).get("locations", [])
        )
        for x in lines
    )


def test_a_damaged_line_in_json_lines_is_reported_and_the_rest_load(tmp_path: Path) -> None:
    a, b = f.study(), f.study()
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(
        json.dumps(a).encode() + b"\n" + b'{"protocolSection": \xff\xfe}\n' + json.dumps(b).encode()
    )
    records = list(read_records([str(path)]))
    assert [r.position for r in records] == ["line 1", "line 2", "line 3"]
    assert records[1].error is not None
    assert "invalid JSON" in records[1].error
    assert [nct(r.data) for r in (records[0], records[2])] == [nct(a), nct(b)]


def test_a_broken_pretty_printed_file_is_one_rejection(tmp_path: Path) -> None:
    text = json.dumps(f.study(), indent=2)
    path = tmp_path / "study.json"
    path.write_text(text.replace('"briefTitle"', '"briefTitle" "oops"', 1))
    records = list(read_records([str(path)]))
    assert len(records) == 1
    assert records[0].error is not None
    assert records[0].position.startswith("line ")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p["identificationModule"].update(acronym="A" * 300), None),
        (lambda p: p["contactsLocationsModule"]["locations"][0].update(zip="1" * 60), None),
        (lambda p: p["identificationModule"].update(briefTitle="Nul \x00 inside"), "NUL"),
        (
            lambda p: p["statusModule"]["lastUpdatePostDateStruct"].update(
                date="2024-01-01T00:00:00Z"
            ),
            None,
        ),
        (lambda p: p["statusModule"]["lastUpdatePostDateStruct"].update(date="last week"), "date"),
        (lambda p: p["eligibilityModule"].update(minimumAge="9" * 50 + " Years"), "150 years"),
        (lambda p: p["statusModule"].update(overallStatus="Recruiting "), None),
        (lambda p: p["statusModule"].update(overallStatus="SOMETHING_ELSE"), "status"),
        (lambda p: p["contactsLocationsModule"]["locations"][0].update(status="weird"), "status"),
        (lambda p: p["identificationModule"].update(organization=None), None),
    ],
)
def test_odd_values_load_or_are_rejected_alike_on_every_database(
    session: Session, change: Any, reason: str | None
) -> None:
    odd, normal = f.study(), f.study()
    change(odd["protocolSection"])
    report = load(session, odd, normal)
    stored = set(session.scalars(select(Study.nct_id)))
    assert nct(normal) in stored
    if reason is None:
        assert report.rejected == []
        assert nct(odd) in stored
    else:
        assert [r.nct_id for r in report.rejected] == [nct(odd)]
        assert reason in report.rejected[0].reason
        assert nct(odd) not in stored


def test_a_timestamp_date_keeps_its_day_and_a_padded_status_is_tidied(session: Session) -> None:
    record = f.study(status="RECRUITING")
    record["protocolSection"]["statusModule"]["lastUpdatePostDateStruct"]["date"] = (
        "2024-01-02T10:00:00Z"
    )
    record["protocolSection"]["statusModule"]["overallStatus"] = " recruiting"
    load(session, record)
    study = session.scalars(select(Study).where(Study.nct_id == nct(record))).one()
    assert (study.last_updated, study.overall_status) == ("2024-01-02", "RECRUITING")
