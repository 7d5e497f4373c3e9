"""The part of the ClinicalTrials.gov API v2 study JSON that TrialFinder reads.

`parse_study` turns one raw study object into a `StudyRecord`: everything patients and
routing need, with ages normalised to years. It raises `RecordError` with a plain reason
for anything it cannot accept, so the importer can report the record and go on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from app.studies.rules import NCT_ID, SEXES, STATUSES, age_in_years

# "2024-03", "2024-03-14", or a timestamp whose date part is kept.
_DATE = re.compile(r"^(\d{4}-\d{2}(?:-\d{2})?)(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


class RecordError(ValueError):
    """A study record that cannot be imported; the message says why."""

    def __init__(self, reason: str, nct_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.nct_id = nct_id


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Contact(_Model):
    name: str | None = None
    role: str | None = None
    phone: str | None = None
    phoneExt: str | None = None
    email: str | None = None


class GeoPoint(_Model):
    lat: float
    lon: float


class Location(_Model):
    facility: str | None = None
    status: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    contacts: list[Contact] = []
    geoPoint: GeoPoint | None = None


class _DateStruct(_Model):
    date: str | None = None


class _Identification(_Model):
    nctId: str
    briefTitle: str | None = None
    officialTitle: str | None = None
    acronym: str | None = None
    organization: dict[str, Any] | None = None


class _Status(_Model):
    overallStatus: str | None = None
    startDateStruct: _DateStruct | None = None
    primaryCompletionDateStruct: _DateStruct | None = None
    completionDateStruct: _DateStruct | None = None
    studyFirstPostDateStruct: _DateStruct | None = None
    lastUpdatePostDateStruct: _DateStruct | None = None


class _Sponsor(_Model):
    name: str | None = None


class _Sponsors(_Model):
    leadSponsor: _Sponsor | None = None


class _Description(_Model):
    briefSummary: str | None = None
    detailedDescription: str | None = None


class _Conditions(_Model):
    conditions: list[str] = []
    keywords: list[str] = []


class _Masking(_Model):
    masking: str | None = None
    whoMasked: list[str] = []


class _DesignInfo(_Model):
    allocation: str | None = None
    interventionModel: str | None = None
    primaryPurpose: str | None = None
    observationalModel: str | None = None
    timePerspective: str | None = None
    maskingInfo: _Masking | None = None


class _Enrollment(_Model):
    count: int | None = None
    type: str | None = None


class _Design(_Model):
    studyType: str | None = None
    phases: list[str] = []
    designInfo: _DesignInfo | None = None
    enrollmentInfo: _Enrollment | None = None


class _Intervention(_Model):
    type: str | None = None
    name: str | None = None
    description: str | None = None
    otherNames: list[str] = []


class _ArmsInterventions(_Model):
    interventions: list[_Intervention] = []


class _Eligibility(_Model):
    eligibilityCriteria: str | None = None
    healthyVolunteers: bool | None = None
    sex: str | None = None
    minimumAge: str | None = None
    maximumAge: str | None = None


class _ContactsLocations(_Model):
    centralContacts: list[Contact] = []
    locations: list[Location] = []


class _Protocol(_Model):
    identificationModule: _Identification
    statusModule: _Status = _Status()
    sponsorCollaboratorsModule: _Sponsors = _Sponsors()
    descriptionModule: _Description = _Description()
    conditionsModule: _Conditions = _Conditions()
    designModule: _Design = _Design()
    armsInterventionsModule: _ArmsInterventions = _ArmsInterventions()
    eligibilityModule: _Eligibility = _Eligibility()
    contactsLocationsModule: _ContactsLocations = _ContactsLocations()


class _MeshTerm(_Model):
    term: str


class _Browse(_Model):
    meshes: list[_MeshTerm] = []
    ancestors: list[_MeshTerm] = []


class _Derived(_Model):
    conditionBrowseModule: _Browse = _Browse()


class StudyDocument(_Model):
    protocolSection: _Protocol
    derivedSection: _Derived = _Derived()


@dataclass
class SiteRecord:
    facility: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: str | None
    status: str | None
    lat: float | None
    lon: float | None
    contacts: list[dict[str, Any]]


@dataclass
class StudyRecord:
    nct_id: str
    brief_title: str
    official_title: str | None
    acronym: str | None
    organization: str | None
    lead_sponsor: str | None
    brief_summary: str | None
    detailed_description: str | None
    overall_status: str
    study_type: str | None
    phases: list[str]
    start_date: str | None
    primary_completion_date: str | None
    completion_date: str | None
    first_posted: str | None
    last_updated: str | None
    conditions: list[str]
    keywords: list[str]
    mesh_terms: list[str]
    mesh_ancestors: list[str]
    eligibility_criteria: str | None
    sex: str
    min_age: str | None
    max_age: str | None
    min_age_years: float | None
    max_age_years: float | None
    healthy_volunteers: bool | None
    central_contacts: list[dict[str, Any]]
    # How the study is run: allocation, intervention or observational model, purpose,
    # masking (and who), time perspective, enrollment; only the keys the record gives.
    design: dict[str, Any] = field(default_factory=dict)
    # What participants receive: [{"type", "name", "description", "other_names"}].
    interventions: list[dict[str, Any]] = field(default_factory=list)
    sites: list[SiteRecord] = field(default_factory=list)


def _date(struct: _DateStruct | None, where: str, nct_id: str) -> str | None:
    if struct is None or not struct.date:
        return None
    match = _DATE.match(struct.date.strip())
    if not match:
        raise RecordError(
            f'statusModule.{where} "{struct.date}" is not a date like 2024-03-14', nct_id
        )
    return match.group(1)


def _status(value: str, where: str, nct_id: str) -> str:
    status = value.strip().upper().replace(" ", "_")
    if status not in STATUSES:
        raise RecordError(f'{where} "{value}" is not a ClinicalTrials.gov status', nct_id)
    return status


def _contact(contact: Contact) -> dict[str, Any]:
    return {
        k: v
        for k, v in (
            ("name", contact.name),
            ("role", contact.role),
            ("phone", contact.phone),
            ("phone_ext", contact.phoneExt),
            ("email", contact.email),
        )
        if v
    }


def _design(design: _Design) -> dict[str, Any]:
    info, enrollment = design.designInfo or _DesignInfo(), design.enrollmentInfo
    masking = info.maskingInfo or _Masking()
    values: dict[str, Any] = {
        "allocation": info.allocation,
        "intervention_model": info.interventionModel,
        "primary_purpose": info.primaryPurpose,
        "observational_model": info.observationalModel,
        "time_perspective": info.timePerspective,
        "masking": masking.masking,
        "who_masked": list(masking.whoMasked) or None,
        "enrollment": enrollment.count if enrollment else None,
        "enrollment_type": enrollment.type if enrollment else None,
    }
    return {k: v for k, v in values.items() if v is not None}


def _intervention(item: _Intervention) -> dict[str, Any]:
    values: dict[str, Any] = {
        "type": item.type,
        "name": (item.name or "").strip() or None,
        "description": item.description,
        "other_names": _unique(item.otherNames) or None,
    }
    return {k: v for k, v in values.items() if v}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(item.strip() for item in items if item and item.strip()))


def _raw_nct_id(raw: Any) -> str | None:
    try:
        value = raw["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def parse_study(raw: Any) -> StudyRecord:
    """One API v2 study object -> a StudyRecord, or RecordError with the reason."""
    nct_id = _raw_nct_id(raw)
    if not isinstance(raw, dict):
        raise RecordError("a study must be a JSON object")
    if nct_id is None:
        raise RecordError("missing protocolSection.identificationModule.nctId")
    if not NCT_ID.match(nct_id):
        raise RecordError(f'NCT ID "{nct_id}" is not NCT followed by 8 digits', nct_id)
    try:
        doc = StudyDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RecordError(f"{where}: {first['msg']}", nct_id) from None

    p = doc.protocolSection
    ident, status, elig = p.identificationModule, p.statusModule, p.eligibilityModule
    title = ident.briefTitle or ident.officialTitle
    if not title:
        raise RecordError("the study has no title", nct_id)
    if not status.overallStatus:
        raise RecordError("missing statusModule.overallStatus", nct_id)
    try:
        min_years = age_in_years(elig.minimumAge)
        max_years = age_in_years(elig.maximumAge)
    except ValueError as exc:
        raise RecordError(f"eligibilityModule: {exc}", nct_id) from None
    sex = (elig.sex or "ALL").upper()
    if sex not in SEXES:
        raise RecordError(f'eligibilityModule.sex "{elig.sex}" is not ALL, FEMALE or MALE', nct_id)

    browse = doc.derivedSection.conditionBrowseModule
    sites = [
        SiteRecord(
            facility=loc.facility,
            city=loc.city,
            state=loc.state,
            zip=loc.zip,
            country=loc.country,
            status=_status(loc.status, "site status", nct_id) if loc.status else None,
            lat=loc.geoPoint.lat if loc.geoPoint else None,
            lon=loc.geoPoint.lon if loc.geoPoint else None,
            contacts=[_contact(c) for c in loc.contacts],
        )
        for loc in p.contactsLocationsModule.locations
    ]
    for site in sites:
        if (
            site.lat is not None
            and site.lon is not None
            and not (-90 <= site.lat <= 90 and -180 <= site.lon <= 180)
        ):
            raise RecordError(f"site {site.facility!r} has an impossible geoPoint", nct_id)
    return StudyRecord(
        nct_id=nct_id,
        brief_title=title.strip(),
        official_title=ident.officialTitle,
        acronym=ident.acronym,
        organization=(ident.organization or {}).get("fullName"),
        lead_sponsor=(
            p.sponsorCollaboratorsModule.leadSponsor.name
            if p.sponsorCollaboratorsModule.leadSponsor
            else None
        ),
        brief_summary=p.descriptionModule.briefSummary,
        detailed_description=p.descriptionModule.detailedDescription,
        overall_status=_status(status.overallStatus, "statusModule.overallStatus", nct_id),
        study_type=p.designModule.studyType,
        phases=list(p.designModule.phases),
        start_date=_date(status.startDateStruct, "startDateStruct", nct_id),
        primary_completion_date=_date(
            status.primaryCompletionDateStruct, "primaryCompletionDateStruct", nct_id
        ),
        completion_date=_date(status.completionDateStruct, "completionDateStruct", nct_id),
        first_posted=_date(status.studyFirstPostDateStruct, "studyFirstPostDateStruct", nct_id),
        last_updated=_date(status.lastUpdatePostDateStruct, "lastUpdatePostDateStruct", nct_id),
        conditions=_unique(p.conditionsModule.conditions),
        keywords=_unique(p.conditionsModule.keywords),
        mesh_terms=_unique([m.term for m in browse.meshes]),
        mesh_ancestors=_unique([m.term for m in browse.ancestors]),
        eligibility_criteria=elig.eligibilityCriteria,
        sex=sex,
        min_age=elig.minimumAge,
        max_age=elig.maximumAge,
        min_age_years=min_years,
        max_age_years=max_years,
        healthy_volunteers=elig.healthyVolunteers,
        central_contacts=[_contact(c) for c in p.contactsLocationsModule.centralContacts],
        design=_design(p.designModule),
        interventions=[_intervention(i) for i in p.armsInterventionsModule.interventions if i.name],
        sites=sites,
    )
