"""Who the site email greets: a person by name, a placeholder never."""

from __future__ import annotations

import pytest

from app.contact.routing import greeting_name, route_request
from app.studies.models import Site, Study


@pytest.mark.parametrize(
    "name",
    [
        # The common placeholders of the real ClinicalTrials.gov records.
        "Site Public Contact",
        "Study Coordinator",
        "Site Contact",
        "Study Contact",
        "Site Coordinator",
        "Trial Manager",
        "US GSK Clinical Trials Call Center",
        "EU GSK Clinical Trials Call Centre",
        "AstraZeneca Clinical Study Information Center",
        "Novartis Pharmaceuticals",
        "Trial Transparency email recommended (Toll free for US & Canada)",
        "Clinical Trials Information Desk",
        "BMS Clinical Trials Contact Center www.BMSClinicalTrials.com",
        "There may be multiple sites in this clinical trial. 1-877-CTLILLY (1-877-285-4559) or",
        "First line of the email MUST contain the NCT# and Site #.",
        "Reference Study ID Number: WO43571 https://forpatients.roche.com/",
        "Toll Free Number",
        "PI",
        "Site 0312",
        "herbert.pichler@stanna.at",
        "",
        "   ",
        None,
    ],
)
def test_placeholders_are_never_greeted(name: str | None) -> None:
    assert greeting_name(name) is None


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        ("Dana Example", "Dana Example"),
        ("  Dana   Example ", "Dana Example"),
        ("Wendy Stock, MD", "Wendy Stock"),
        ("Kenneth O'Byrne, Site 0068", "Kenneth O'Byrne"),
        ("Dr Shailesh V Shrikhande, MBBS MS MD", "Dr Shailesh V Shrikhande"),
        ("Maria de los Angeles Vicente Reparaz", "Maria de los Angeles Vicente Reparaz"),
        ("Aurélie Affret, PhD", "Aurélie Affret"),
        ("Line Hansen", "Line Hansen"),  # a given name, not the word "line"
        ("Paul Nurse", "Paul Nurse"),
    ],
)
def test_people_are_greeted_by_name(name: str, greeted: str) -> None:
    assert greeting_name(name) == greeted


def test_a_contact_named_as_the_sponsor_is_the_sponsors_desk() -> None:
    assert greeting_name("Boehringer Ingelheim", sponsor="Boehringer Ingelheim") is None
    assert greeting_name("Novo Nordisk", sponsor="Novo Nordisk A/S") is None
    assert greeting_name("Boehringer Ingelheim") == "Boehringer Ingelheim"  # no way to tell
    # A person who sponsors their own study, named with their degree.
    assert greeting_name("Olgun Elicin, MD", sponsor="Olgun Elicin") == "Olgun Elicin"
    assert greeting_name("Dana Example", sponsor="Example University") == "Dana Example"


def test_routing_carries_the_name_to_greet_or_none() -> None:
    study = Study(lead_sponsor="GlaxoSmithKline", central_contacts=[])
    site = Site(contacts=[{"name": "Site Public Contact", "email": "site@example.org"}])
    assert route_request(study, site, fallback=None).greeting_name is None
    site = Site(contacts=[{"name": "Dana Example, RN", "email": "dana@example.org"}])
    assert route_request(study, site, fallback=None).greeting_name == "Dana Example"
    study = Study(
        lead_sponsor="GlaxoSmithKline",
        central_contacts=[{"name": "US GSK Clinical Trials Call Center", "email": "g@example.com"}],
    )
    central = route_request(study, Site(contacts=[]), fallback=None)
    assert (central.kind, central.greeting_name) == ("central", None)
