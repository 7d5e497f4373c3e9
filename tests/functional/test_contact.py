"""The contact flow through HTTP: form, validation, one transaction, routing, confirmation."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.contact.models import ContactRequest
from app.outbox.models import OutboxMessage
from app.studies.models import Site, Study
from tests import factories as f
from tests.conftest import load

CHICAGO = {"lat": "41.88", "lon": "-87.63"}
CHOOSE = {"choose": "1"}  # no place given: the patient picks a site from the list
SITE_CONTACT = {
    "name": "Dana Example",
    "role": "CONTACT",
    "phone": "+1 312-555-0147",
    "email": "dana@example.org",
}


def nct(record: dict[str, Any]) -> str:
    return str(record["protocolSection"]["identificationModule"]["nctId"])


def site_id(session: Session, record: dict[str, Any], facility: str) -> int:
    return session.scalars(
        select(Site.id).join(Study).where(Study.nct_id == nct(record), Site.facility == facility)
    ).one()


def counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(ContactRequest)) or 0,
        session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
    )


def token(page_text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page_text)
    assert match, "the form has no CSRF token"
    return match.group(1)


def good_form(site: int, csrf_token: str, **changes: str) -> dict[str, str]:
    form = {
        "first_name": "  José ",
        "last_name": "O'Brien",
        "email": "jose.obrien@example.com",
        "phone": "(202) 456-1111",
        "language": "es",
        "site": str(site),
        "consent": "yes",
        "leave_empty": "",
        "csrf_token": csrf_token,
    }
    form.update(changes)
    return form


@pytest.fixture
def study(session: Session) -> dict[str, Any]:
    record = f.study(
        title="Breathing exercises for adults with asthma",
        sites=[
            f.site(
                facility="Far Clinic",
                city="Springfield",
                lat=39.78,
                lon=-89.65,
                contacts=[SITE_CONTACT],
            ),
            f.site(
                facility="Near Clinic",
                city="Evanston",
                lat=42.05,
                lon=-87.69,
                contacts=[SITE_CONTACT],
            ),
            f.site(
                facility="Soon Clinic",
                city="Joliet",
                lat=41.53,
                lon=-88.08,
                status="NOT_YET_RECRUITING",
            ),
            f.site(
                facility="Closed Clinic", city="Chicago", lat=41.88, lon=-87.63, status="COMPLETED"
            ),
        ],
    )
    load(session, record)
    return record


def test_form_preselects_the_nearest_open_site_and_shows_its_contact(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHICAGO)
    assert page.status_code == 200
    text = page.text
    near = site_id(session, study, "Near Clinic")
    assert re.search(rf'value="{near}" checked', text)
    assert text.index("Near Clinic") < text.index("Soon Clinic") < text.index("Far Clinic")
    assert "Closed Clinic" not in text
    assert "Not yet recruiting" in text
    for published in ("Dana Example", "+1 312-555-0147", "dana@example.org"):
        assert published in text
    for field in (
        "first_name",
        "last_name",
        "email",
        "phone",
        "language",
        "consent",
        "leave_empty",
    ):
        assert f'name="{field}"' in text
    assert '<option value="es">Spanish</option>' in text
    assert token(text)
    assert "tf_csrf" in page.cookies


def test_the_chosen_site_is_one_card_and_the_others_fold_away(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHICAGO).text
    fold = page.index('<details class="more-sites">')
    assert page.index("Near Clinic") < fold < page.index("Soon Clinic") < page.index("Far Clinic")
    assert page.index("Far Clinic") < page.index("</details>") < page.index('name="first_name"')

    # Nothing chosen yet (no place, several sites): every site is shown, none folded.
    chooses = client.get(f"/studies/{nct(study)}/contact", params={"choose": "1"}).text
    assert "more-sites" not in chooses
    assert 'name="site"' in chooses
    assert " checked" not in chooses.split('name="first_name"')[0]


def test_a_valid_request_is_stored_with_both_emails_and_confirmed(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHICAGO)
    near = site_id(session, study, "Near Clinic")
    response = client.post(
        f"/studies/{nct(study)}/contact",
        data=good_form(near, token(page.text)),
        follow_redirects=False,
    )
    assert response.status_code == 303
    confirmation = client.get(response.headers["location"])
    assert confirmation.status_code == 200
    assert (
        "We have submitted the contact information you provided to the research team at "
        "Near Clinic, Evanston, Illinois, United States. A copy of the message has been sent to "
        "your email for your records."
    ) in confirmation.text
    assert "Sign up for Patient Notification Services" in confirmation.text

    request = session.scalars(select(ContactRequest)).one()
    assert (request.first_name, request.last_name) == ("José", "O'Brien")
    assert request.phone == "+12024561111"
    assert request.language == "es"
    assert (request.routing, request.routed_to) == ("site", "dana@example.org")
    messages = {m.kind: m for m in session.scalars(select(OutboxMessage))}
    assert set(messages) == {"contact_site", "contact_patient"}
    assert messages["contact_site"].recipients == ["dana@example.org"]
    assert messages["contact_site"].reply_to == "jose.obrien@example.com"
    assert messages["contact_patient"].recipients == ["jose.obrien@example.com"]
    assert all(m.status == "queued" for m in messages.values())


def test_a_repeat_within_a_day_sends_nothing_new(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHICAGO)
    near = site_id(session, study, "Near Clinic")
    form = good_form(near, token(page.text))
    first = client.post(f"/studies/{nct(study)}/contact", data=form, follow_redirects=False)
    again = client.post(
        f"/studies/{nct(study)}/contact",
        data={**form, "email": "JOSE.OBRIEN@example.com"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert counts(session) == (1, 2)
    other_site = site_id(session, study, "Far Clinic")
    client.post(f"/studies/{nct(study)}/contact", data={**form, "site": str(other_site)})
    assert counts(session) == (2, 4)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "first name"),
        ({"email": "not-an-email"}, "email", "email address"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"last_name": "Smith\r\nBcc: victim@example.com"}, "last_name", "line breaks"),
        ({"consent": ""}, "consent", "share your details"),
        ({"language": "xx"}, "language", "language"),
    ],
)
def test_invalid_input_shows_the_form_again_with_values_and_nothing_stored(
    client: TestClient,
    study: dict[str, Any],
    session: Session,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHICAGO)
    near = site_id(session, study, "Near Clinic")
    response = client.post(
        f"/studies/{nct(study)}/contact", data=good_form(near, token(page.text), **changes)
    )
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text.lower() or message in response.text
    assert 'value="O&#39;Brien"' in response.text or field == "last_name"
    assert 'value="jose.obrien@example.com"' in response.text or field == "email"
    assert re.search(rf'value="{near}" checked', response.text)
    assert counts(session) == (0, 0)


def test_a_closed_site_cannot_be_chosen(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHOOSE)
    closed = site_id(session, study, "Closed Clinic")
    response = client.post(
        f"/studies/{nct(study)}/contact", data=good_form(closed, token(page.text))
    )
    assert response.status_code == 422
    assert 'id="site-error"' in response.text
    assert counts(session) == (0, 0)


def test_missing_or_forged_csrf_token_is_refused_but_keeps_the_answers(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    near = site_id(session, study, "Near Clinic")
    response = client.post(f"/studies/{nct(study)}/contact", data=good_form(near, "forged"))
    assert response.status_code == 403
    assert "needs to be sent again" in response.text
    assert 'value="jose.obrien@example.com"' in response.text
    assert counts(session) == (0, 0)
    # The page that refused it carries a fresh token that works.
    retry = client.post(
        f"/studies/{nct(study)}/contact",
        data=good_form(near, token(response.text)),
        follow_redirects=False,
    )
    assert retry.status_code == 303


def test_cross_site_posts_are_refused(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHOOSE)
    near = site_id(session, study, "Near Clinic")
    response = client.post(
        f"/studies/{nct(study)}/contact",
        data=good_form(near, token(page.text)),
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert counts(session) == (0, 0)


def test_the_honeypot_stops_bots_and_lets_a_person_send_again(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHOOSE)
    near = site_id(session, study, "Near Clinic")
    trap = re.search(r"<input [^>]*name=\"leave_empty\"[^>]*>", page.text)
    assert trap, "the form has no honeypot"
    for attribute in ('tabindex="-1"', 'autocomplete="off"', "data-lpignore", "data-1p-ignore"):
        assert attribute in trap.group(0), attribute
    assert '<div class="hp" aria-hidden="true">' in page.text

    response = client.post(
        f"/studies/{nct(study)}/contact",
        data=good_form(near, token(page.text), leave_empty="http://spam.example"),
    )
    assert response.status_code == 422
    assert counts(session) == (0, 0)
    assert "press the send button again" in response.text
    assert "try again later" not in response.text
    assert 'value="jose.obrien@example.com"' in response.text  # the answers are kept
    assert 'name="leave_empty" type="text" tabindex="-1" autocomplete="off" value=""' in (
        response.text
    )

    # A person whose browser filled the box presses send again, and it goes through.
    again = client.post(
        f"/studies/{nct(study)}/contact",
        data=good_form(near, token(response.text)),
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert counts(session) == (1, 2)


@pytest.mark.parametrize(
    ("site_contacts", "central", "fallback", "routing", "address"),
    [
        ([SITE_CONTACT], True, None, "site", "dana@example.org"),
        (
            [{"name": "No Email", "phone": "+1 312-555-0100"}],
            True,
            None,
            "central",
            "pat@example.org",
        ),
        ([], False, "desk@example.net", "fallback", "desk@example.net"),
        ([], False, None, "flagged", None),
    ],
)
def test_routing(
    client: TestClient,
    session: Session,
    site_contacts: list[dict[str, str]],
    central: bool,
    fallback: str | None,
    routing: str,
    address: str | None,
) -> None:
    record = f.study(sites=[f.site(facility="Only Clinic", contacts=site_contacts)])
    if not central:
        record["protocolSection"]["contactsLocationsModule"]["centralContacts"] = []
    load(session, record)
    app = client.app
    assert isinstance(app, FastAPI)
    app.state.settings = app.state.settings.model_copy(update={"fallback_contact_email": fallback})
    page = client.get(f"/studies/{nct(record)}/contact")
    only = site_id(session, record, "Only Clinic")
    response = client.post(
        f"/studies/{nct(record)}/contact",
        data=good_form(only, token(page.text)),
        follow_redirects=False,
    )
    assert response.status_code == 303
    request = session.scalars(select(ContactRequest)).one()
    assert (request.routing, request.routed_to) == (routing, address)
    kinds = sorted(m.kind for m in session.scalars(select(OutboxMessage)))
    assert kinds == (
        ["contact_patient"] if routing == "flagged" else ["contact_patient", "contact_site"]
    )


@pytest.mark.parametrize("status", ["COMPLETED", "ACTIVE_NOT_RECRUITING", "WITHDRAWN"])
def test_closed_studies_say_so_and_offer_similar_recruiting_studies(
    client: TestClient, session: Session, status: str
) -> None:
    closed = f.study(status=status, conditions=("Psoriasis",))
    similar = f.study(conditions=("Psoriasis",), title="A recruiting psoriasis study")
    load(session, closed, similar)
    page = client.get(f"/studies/{nct(closed)}/contact")
    assert page.status_code == 200
    assert "not taking new contacts" in page.text
    assert "A recruiting psoriasis study" in page.text
    assert 'name="first_name"' not in page.text
    post = client.post(f"/studies/{nct(closed)}/contact", data={"first_name": "X"})
    assert 'name="first_name"' not in post.text
    assert counts(session) == (0, 0)


def test_unknown_study_and_request_are_404(client: TestClient) -> None:
    assert client.get("/studies/NCT00000000/contact").status_code == 404
    assert client.post("/studies/NCT00000000/contact", data={}).status_code == 404
    assert client.get("/contact/requests/nope").status_code == 404


FIELDS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "language",
    "site",
    "consent",
    "leave_empty",
    "csrf_token",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=60), max_size=9))
def test_fuzzed_forms_never_cause_a_server_error(
    client: TestClient, study: dict[str, Any], form: dict[str, str]
) -> None:
    response = client.post(f"/studies/{nct(study)}/contact", data=form, follow_redirects=False)
    assert response.status_code in (303, 403, 422), response.text[:300]


def test_ids_of_the_wrong_shape_are_404_on_every_database(client: TestClient) -> None:
    for path in ("/studies/NCT%00X/contact", "/studies/NCT%00X", "/contact/requests/ab%00c"):
        assert client.get(path).status_code == 404, path
    assert client.post("/studies/NCT%00X/contact", data={}).status_code == 404


def test_a_form_shown_again_keeps_what_was_and_was_not_chosen(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHOOSE)
    form = good_form(0, token(page.text), consent="no")
    del form["site"]
    response = client.post(f"/studies/{nct(study)}/contact", data=form)
    assert response.status_code == 422
    assert " checked" not in response.text  # no site, and "no" is not consent


def test_names_that_are_web_addresses_are_refused(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHOOSE)
    near = site_id(session, study, "Near Clinic")
    form = good_form(near, token(page.text), first_name="Win a prize at www.evil.example")
    response = client.post(f"/studies/{nct(study)}/contact", data=form)
    assert response.status_code == 422
    assert "web address" in response.text
    assert counts(session) == (0, 0)


def test_one_address_cannot_be_used_for_endless_requests(
    client: TestClient, session: Session
) -> None:
    from app.contact.service import ADDRESS_LIMIT

    limit = ADDRESS_LIMIT.times
    records = [
        f.study(sites=[f.site(facility="Clinic", contacts=[SITE_CONTACT])])
        for _ in range(limit + 1)
    ]
    load(session, *records)
    statuses = []
    for record in records:
        page = client.get(f"/studies/{nct(record)}/contact")
        form = good_form(site_id(session, record, "Clinic"), token(page.text))
        statuses.append(
            client.post(
                f"/studies/{nct(record)}/contact", data=form, follow_redirects=False
            ).status_code
        )
    assert statuses == [303] * limit + [429]
    assert counts(session) == (limit, 2 * limit)


def test_a_flagged_request_is_confirmed_honestly(client: TestClient, session: Session) -> None:
    record = f.study(sites=[f.site(facility="Silent Clinic", contacts=[])])
    record["protocolSection"]["contactsLocationsModule"]["centralContacts"] = []
    load(session, record)
    page = client.get(f"/studies/{nct(record)}/contact")
    response = client.post(
        f"/studies/{nct(record)}/contact",
        data=good_form(site_id(session, record, "Silent Clinic"), token(page.text)),
    )
    assert response.status_code == 200
    assert "our administrators will pass it on" in response.text
    assert "We have submitted" not in response.text


def test_a_recruiting_study_without_sites_reaches_its_study_team(
    client: TestClient, session: Session
) -> None:
    record = f.study(sites=[])
    load(session, record)
    page = client.get(f"/studies/{nct(record)}/contact")
    assert page.status_code == 200
    assert "The study team" in page.text
    assert 'value="0" checked' in page.text
    assert "pat@example.org" in page.text  # the central contact, as published
    response = client.post(
        f"/studies/{nct(record)}/contact",
        data=good_form(0, token(page.text), phone="+1 202-456-1111"),
        follow_redirects=False,
    )
    assert response.status_code == 303
    request = session.scalars(select(ContactRequest)).one()
    assert (request.site_id, request.site_name) == (None, "the study team")
    assert (request.routing, request.routed_to) == ("central", "pat@example.org")
    assert "research team at the study team" not in client.get(response.headers["location"]).text


def test_a_study_without_sites_or_central_email_cannot_be_contacted(
    client: TestClient, session: Session
) -> None:
    record = f.study(sites=[])
    record["protocolSection"]["contactsLocationsModule"]["centralContacts"] = []
    load(session, record)
    assert "not taking new contacts" in client.get(f"/studies/{nct(record)}/contact").text


def test_without_a_place_the_page_asks_where_the_patient_is_first(
    client: TestClient, study: dict[str, Any]
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact")
    assert page.status_code == 200
    assert "<h1>Where are you?</h1>" in page.text
    assert 'name="location"' in page.text
    assert "data-use-location" in page.text  # "Use my current location", with JavaScript
    assert 'type="radio"' not in page.text  # no site offered, none called nearest
    assert "nearest)" not in page.text
    assert "?choose=1" in page.text
    found = client.get(f"/studies/{nct(study)}/contact", params={"location": "Chicago, IL"})
    assert 'name="site"' in found.text
    assert "(nearest)" in found.text


def test_a_place_we_cannot_find_asks_again_keeping_what_was_typed(
    client: TestClient, study: dict[str, Any]
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params={"location": "Zzyzxqton"})
    assert "<h1>Where are you?</h1>" in page.text
    assert 'value="Zzyzxqton"' in page.text
    assert 'role="alert"' in page.text


def test_choosing_from_the_list_preselects_nothing_and_names_nothing_nearest(
    client: TestClient, study: dict[str, Any], session: Session
) -> None:
    page = client.get(f"/studies/{nct(study)}/contact", params=CHOOSE)
    assert page.status_code == 200
    assert 'name="site"' in page.text
    assert " checked" not in page.text.split('name="language"')[0]
    assert "(nearest)" not in page.text
    assert "<h1>Get in touch with a study center</h1>" in page.text
    assert "Tell us where you are to see the nearest sites first" in page.text
    sent = client.post(
        f"/studies/{nct(study)}/contact",
        data={**good_form(0, token(page.text)), "site": ""},
    )
    assert sent.status_code == 422
    assert counts(session) == (0, 0)


def test_a_study_with_one_site_goes_straight_to_the_form(
    client: TestClient, session: Session
) -> None:
    record = f.study(sites=[f.site(facility="Only Clinic", contacts=[SITE_CONTACT])])
    load(session, record)
    page = client.get(f"/studies/{nct(record)}/contact")
    assert 'name="site"' in page.text
    assert re.search(r'value="\d+" checked', page.text)
    assert "(nearest)" not in page.text


def test_a_central_contact_phone_is_not_read_in_the_site_country(
    client: TestClient, session: Session
) -> None:
    """A US sponsor's "317-615-4559" read in China is a valid Chinese number: shown as typed."""
    record = f.study(
        sites=[
            f.site(
                facility="Beijing Research Site",
                city="Beijing",
                state=None,
                zip=postal_code,
                country="China",
                lat=lat,
                lon=116.4,
                contacts=[],
            )
            for postal_code, lat in (("100730", 39.9), ("100050", 39.91))
        ]
    )
    central = {"name": "Lilly Example Desk", "phone": "317-615-4559", "email": "t@example.org"}
    record["protocolSection"]["contactsLocationsModule"]["centralContacts"] = [central]
    load(session, record)
    page = client.get(f"/studies/{nct(record)}/contact", params={"location": "Beijing"})
    assert "+86 317" not in page.text
    assert 'phone <a href="tel:317-615-4559">317-615-4559</a>' in page.text
    # Two sites of one facility in one city are told apart by their postal codes.
    assert "Beijing, 100730, China" in page.text
    assert "Beijing, 100050, China" in page.text
    response = client.post(
        f"/studies/{nct(record)}/contact",
        data={
            **good_form(0, token(page.text)),
            "site": re.findall(r'name="site" id="site-\d+" value="(\d+)"', page.text)[0],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    copy = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "contact_patient")
    ).one()
    assert "phone 317-615-4559" in (copy.body_text or "")


def test_phones_are_shown_in_the_international_format_and_stored_in_e164(
    client: TestClient, session: Session
) -> None:
    typed_by_registry = {
        "name": "Dana Example",
        "phone": "(312) 555-0147",
        "email": "d@example.org",
    }
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[typed_by_registry])])
    load(session, record)
    page = client.get(f"/studies/{nct(record)}/contact", params=CHICAGO)
    assert 'phone <a href="tel:(312) 555-0147">+1 312-555-0147</a>' in page.text
    response = client.post(
        f"/studies/{nct(record)}/contact",
        data=good_form(site_id(session, record, "Lake Clinic"), token(page.text)),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert session.scalars(select(ContactRequest)).one().phone == "+12024561111"
    messages = {m.kind: m for m in session.scalars(select(OutboxMessage))}
    site_email, copy = messages["contact_site"], messages["contact_patient"]
    assert "Phone:  +1 202-456-1111" in (site_email.body_text or "")
    assert 'href="tel:+12024561111">+1 202-456-1111</a>' in (site_email.body_html or "")
    assert "Phone: +1 202-456-1111" in (copy.body_text or "")
    assert "<td>+1 202-456-1111</td>" in (copy.body_html or "")
    assert "phone +1 312-555-0147" in (copy.body_text or "")


@pytest.mark.parametrize(
    ("name", "greeting", "named_in_copy"),
    [
        ("Site Public Contact", "Hello,\n", "the study team"),
        (
            "Trial Transparency email recommended (Toll free for US & Canada)",
            "Hello,\n",
            "the study team",
        ),
        ("Dana Example, MD", "Hello Dana Example,\n", "Dana Example"),
    ],
)
def test_the_emails_name_a_person_and_never_a_placeholder(
    client: TestClient, session: Session, name: str, greeting: str, named_in_copy: str
) -> None:
    contact = {"name": name, "email": "site@example.org"}
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[contact])])
    load(session, record)
    page = client.get(f"/studies/{nct(record)}/contact")
    response = client.post(
        f"/studies/{nct(record)}/contact",
        data=good_form(site_id(session, record, "Lake Clinic"), token(page.text)),
        follow_redirects=False,
    )
    assert response.status_code == 303
    site_email = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "contact_site")
    ).one()
    assert (site_email.body_text or "").startswith(greeting)
    assert f"<p>{greeting.strip()}</p>" in (site_email.body_html or "")
    # The patient's copy says whom to contact if nobody calls: a person, or the team.
    copy = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "contact_patient")
    ).one()
    direct = f"contact the study directly: {named_in_copy}, email site@example.org"
    assert direct in (copy.body_text or "")
    if named_in_copy == "the study team":
        assert name not in (copy.body_text or "")
