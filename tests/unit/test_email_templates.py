"""Email templates as code: every typed context's sample renders, subjects are one line
without health details, and every template folder has its context."""

from __future__ import annotations

import dataclasses

import pytest

import app.alerts.emails
import app.contact.emails  # noqa: F401  (registers the contact emails' contexts)
from app.contact.emails import ContactEmail, PatientCopy, SiteEmail
from app.contact.routing import Routing
from app.outbox.email.rendering import EmailContext, render_email
from app.resources import TEMPLATE_DIR

SAMPLE = ContactEmail.sample()
CASES = {
    "site": SAMPLE,
    "central": dataclasses.replace(SAMPLE, routing=Routing("central", "pat@example.org")),
    "fallback": dataclasses.replace(SAMPLE, routing=Routing("fallback", "desk@example.org")),
    "flagged": dataclasses.replace(SAMPLE, routing=Routing("flagged", None)),
    "no sites": dataclasses.replace(
        SAMPLE,
        has_site=False,
        site_name="the study team",
        site_short="the study team",
        routing=Routing("central", "pat@example.org"),
    ),
    "no published contact": dataclasses.replace(SAMPLE, contact=None, language=None),
}


def test_every_template_folder_has_a_typed_context() -> None:
    folders = {p.name for p in (TEMPLATE_DIR / "email").iterdir() if not p.name.startswith("_")}
    assert folders == set(EmailContext.by_template)


@pytest.mark.parametrize("template", sorted(EmailContext.by_template))
def test_every_sample_renders_with_a_one_line_subject(template: str) -> None:
    email = render_email(EmailContext.by_template[template].sample())
    assert email.subject
    assert "\n" not in email.subject
    assert email.text.strip()
    assert email.html is not None


@pytest.mark.parametrize("kind", [SiteEmail, PatientCopy])
@pytest.mark.parametrize("case", sorted(CASES))
def test_contact_emails_render_in_every_routing_case(kind: type[ContactEmail], case: str) -> None:
    context = kind(**{f.name: getattr(CASES[case], f.name) for f in dataclasses.fields(SAMPLE)})
    email = render_email(context)
    assert "breathing" not in email.subject.lower()  # the subject names the study by ID only
    assert SAMPLE.study.nct_id in email.subject
    assert "Ana" in email.text
    assert SAMPLE.study.nct_id in email.text
    assert "at the study team" not in email.text
    assert email.html is not None
    assert "<script" not in email.html


def test_the_site_is_told_when_the_request_reached_it_indirectly() -> None:
    central = render_email(SiteEmail(**vars(CASES["central"])))
    assert "went to the study's central contact" in central.text
    no_sites = render_email(SiteEmail(**vars(CASES["no sites"])))
    assert "lists no sites yet" in no_sites.text


def test_the_patient_is_told_how_to_reach_the_study_directly() -> None:
    copy = render_email(PatientCopy(**vars(SAMPLE)))
    assert "Dana Example, phone +1 312-555-0147, email dana@example.org" in copy.text
    without = render_email(PatientCopy(**vars(CASES["no published contact"])))
    assert "contact the study directly" not in without.text
    assert "none given" in without.text


@pytest.mark.parametrize("kind", [SiteEmail, PatientCopy])
def test_phones_are_shown_in_the_international_format(kind: type[ContactEmail]) -> None:
    assert SAMPLE.request.phone == "+12025550143"  # stored in E.164
    assert SAMPLE.contact is not None
    assert SAMPLE.contact.phone == "312-555-0147"  # as the listing typed it
    email = render_email(kind(**vars(SAMPLE)))
    assert email.html is not None
    for body in (email.text, email.html):
        assert "+1 202-555-0143" in body
        assert "+12025550143<" not in body
        assert "Phone:  +12025550143" not in body
        assert "Phone: +12025550143" not in body
    if kind is PatientCopy:
        assert "phone +1 312-555-0147" in email.text
        assert "phone +1 312-555-0147" in email.html


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_patient_copy_says_whether_the_answers_went_along(case: str) -> None:
    sample = CASES[case]
    copy = render_email(
        PatientCopy(**{f.name: getattr(sample, f.name) for f in dataclasses.fields(SAMPLE)})
    )
    site = render_email(
        SiteEmail(**{f.name: getattr(sample, f.name) for f in dataclasses.fields(SAMPLE)})
    )
    if sample.routing.address:
        assert "went along with your details (2 lines)" in copy.text
        assert "- Not sure: Pregnancy" in site.text
    else:
        assert "could not go along" in copy.text
        assert "could not go along" in (copy.html or "")
    without = dataclasses.replace(sample, answers=())
    assert (
        "answers to the study's criteria"
        not in render_email(
            PatientCopy(**{f.name: getattr(without, f.name) for f in dataclasses.fields(SAMPLE)})
        ).text
    )
