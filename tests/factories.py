"""Hand-written fictional study records in ClinicalTrials.gov API v2 shape, for tests."""

from __future__ import annotations

import itertools
from typing import Any

_ids = itertools.count(1)


def next_nct_id() -> str:
    return f"NCT98{next(_ids):06d}"


def site(
    *,
    facility: str = "Example Research Clinic",
    city: str = "Chicago",
    state: str | None = "Illinois",
    country: str = "United States",
    zip: str | None = "60601",
    lat: float | None = 41.88,
    lon: float | None = -87.63,
    status: str | None = "RECRUITING",
    contacts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    location: dict[str, Any] = {"facility": facility, "city": city, "country": country}
    if state:
        location["state"] = state
    if zip:
        location["zip"] = zip
    if status:
        location["status"] = status
    if lat is not None and lon is not None:
        location["geoPoint"] = {"lat": lat, "lon": lon}
    if contacts is not None:
        location["contacts"] = contacts
    return location


def study(
    nct_id: str | None = None,
    *,
    title: str = "A fictional study of a test treatment",
    status: str = "RECRUITING",
    conditions: tuple[str, ...] = ("Asthma",),
    keywords: tuple[str, ...] = (),
    meshes: tuple[str, ...] = (),
    ancestors: tuple[str, ...] = (),
    sex: str | None = "ALL",
    min_age: str | None = "18 Years",
    max_age: str | None = None,
    criteria: str = "Inclusion Criteria:\n\n* Adults\n\nExclusion Criteria:\n\n* Pregnancy",
    sites: list[dict[str, Any]] | None = None,
    last_update: str = "2026-10-01",
    completion: str = "2028-12",
) -> dict[str, Any]:
    eligibility: dict[str, Any] = {"eligibilityCriteria": criteria, "healthyVolunteers": False}
    if sex:
        eligibility["sex"] = sex
    if min_age:
        eligibility["minimumAge"] = min_age
    if max_age:
        eligibility["maximumAge"] = max_age
    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": nct_id or next_nct_id(),
                "briefTitle": title,
                "organization": {"fullName": "Example University Hospital"},
            },
            "statusModule": {
                "overallStatus": status,
                "startDateStruct": {"date": "2025-01"},
                "completionDateStruct": {"date": completion, "type": "ESTIMATED"},
                "lastUpdatePostDateStruct": {"date": last_update, "type": "ACTUAL"},
            },
            "descriptionModule": {"briefSummary": "A fictional study used in tests."},
            "conditionsModule": {"conditions": list(conditions), "keywords": list(keywords)},
            "designModule": {"studyType": "INTERVENTIONAL", "phases": ["PHASE2"]},
            "eligibilityModule": eligibility,
            "contactsLocationsModule": {
                "centralContacts": [
                    {"name": "Pat Example", "role": "CONTACT", "email": "pat@example.org"}
                ],
                "locations": sites if sites is not None else [site()],
            },
        },
        "derivedSection": {
            "conditionBrowseModule": {
                "meshes": [{"id": f"D9{i:05d}", "term": t} for i, t in enumerate(meshes)],
                "ancestors": [{"id": f"D8{i:05d}", "term": t} for i, t in enumerate(ancestors)],
            }
        },
        "hasResults": False,
    }
