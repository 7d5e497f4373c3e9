"""Signing up, managing and leaving alerts through the pages; what they store, how the
privacy tools and the admin area treat them (both databases)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.admin.auth import create_admin
from app.alerts.consent import CONSENT_VERSION
from app.alerts.models import ACTIVE, PAUSED, PENDING, Alert, AlertLink
from app.alerts.service import pause_after_bounce
from app.config import Settings
from app.daily import daily_jobs, purge_everything
from app.outbox.email.senders import MemorySender, SmtpSender
from app.outbox.models import OutboxMessage
from app.outbox.worker import Worker
from app.privacy.erasure import erase_person
from tests import factories as f
from tests.alert_helpers import csrf_token, link, load_at, queued, sign_up
from tests.conftest import NOW, load, smtp_settings
from tests.functional.admin.helpers import EMAIL as ADMIN
from tests.functional.admin.helpers import PASSWORD, log_in
from tests.smtp_server import SmtpSink

ROBIN = "robin.example@example.net"


def confirm_all(session: Session) -> None:
    for alert in session.scalars(select(Alert)):
        alert.status, alert.confirmed_at = ACTIVE, dt.datetime.now(dt.UTC)
    session.commit()


def test_the_sign_up_form_is_filled_in_from_the_query_string(client: TestClient) -> None:
    page = client.get(
        "/alerts?condition=Type+2+diabetes&age=54&sex=female&location=Springfield%2C+IL"
        "&radius_km=250&status=RECRUITING&status=NOT_YET_RECRUITING&from=results"
    )
    assert page.status_code == 200
    html = page.text
    assert re.search(r'name="condition" [^>]*value="Type 2 diabetes"', html)
    assert 'value="54"' in html
    assert '<option value="female" selected>' in html
    assert 'value="Springfield, IL"' in html
    assert '<option value="250" selected>' in html
    assert 'value="NOT_YET_RECRUITING" checked' in html
    assert 'name="from" value="results"' in html
    assert 'name="consent" type="checkbox" value="yes">' in html  # never pre-ticked


def test_results_page_offers_email_me_new_studies_with_the_search(
    client: TestClient, session: Session
) -> None:
    load(session, f.study())
    page = client.get("/studies?condition=asthma&age=40&location=Chicago&radius_km=50")
    offer = re.search(r'href="([^"]*/alerts\?[^"]+)">Email me new studies like these', page.text)
    assert offer
    form = client.get(offer.group(1).replace("&amp;", "&")).text
    assert re.search(r'name="condition"[^>]*value="asthma"', form)
    assert 'value="40"' in form
    assert 'value="Chicago"' in form
    assert '<option value="50" selected>' in form
    assert 'name="from" value="results"' in form


def test_the_contact_confirmation_offers_alerts_for_the_condition_and_place(
    client: TestClient, session: Session
) -> None:
    study = f.study(conditions=("Chronic Cough", "Asthma"),
                    sites=[f.site(contacts=[{"email": "team@example.org"}])])  # fmt: skip
    load(session, study)
    nct = study["protocolSection"]["identificationModule"]["nctId"]
    form = client.get(f"/studies/{nct}/contact?location=Chicago")
    site = re.search(r'name="site" id="site-(\d+)"', form.text)
    assert site
    sent = client.post(
        f"/studies/{nct}/contact?location=Chicago",
        data={
            "first_name": "Robin",
            "last_name": "Example",
            "email": ROBIN,
            "phone": "+1 312 555 0147",
            "site": site.group(1),
            "consent": "yes",
            "csrf_token": csrf_token(form.text),
        },
    )
    assert sent.status_code == 200
    offer = re.search(
        r'href="([^"]*/alerts\?[^"]+)">Sign up for Patient Notification Services', sent.text
    )
    assert offer
    form_page = client.get(offer.group(1).replace("&amp;", "&")).text
    assert re.search(r'name="condition"[^>]*value="Chronic Cough"', form_page)
    assert 'value="Chicago"' in form_page
    assert 'name="from" value="confirmation"' in form_page
    assert (
        client.get("/notifications?condition=x", follow_redirects=False)
        .headers["location"]
        .endswith("/alerts?condition=x")
    )


def test_consent_is_stored_and_the_alert_is_encrypted_at_rest(
    client: TestClient, session: Session
) -> None:
    assert sign_up(client, "condition=Narcolepsy&location=Chicago&from=results").status_code == 303
    alert = session.scalars(select(Alert)).one()
    assert alert.status == PENDING
    assert (alert.consent_page, alert.consent_version) == ("results", CONSENT_VERSION)
    assert alert.consent_at is not None
    assert alert.confirmed_at is None
    raw = session.execute(text("SELECT * FROM alerts")).one()
    joined = " ".join(str(value) for value in raw)
    for secret in (ROBIN, "robin.example", "Narcolepsy", "narcolepsy", "Chicago",
                   alert.manage_token, alert.unsubscribe_token):  # fmt: skip
        assert secret not in joined
    mail = session.execute(text("SELECT * FROM outbox_messages")).one()
    assert "Narcolepsy" not in " ".join(str(value) for value in mail)
    assert "List-Unsubscribe" not in " ".join(str(value) for value in mail)


def test_invalid_sign_ups_get_the_form_again_with_every_value_kept(
    client: TestClient, session: Session
) -> None:
    cases = [
        ({"email": "robin@"}, "email", "Please check"),
        ({"condition": ""}, "condition", "Enter a condition"),
        ({"age": "two hundred"}, "age", ""),
        ({"location": "Nowhereville Qqq"}, "location", ""),
        ({"consent": ""}, "consent", "Please confirm that we may email you"),
        ({"email": "robin@example.net\r\nBcc: x@example.org"}, "email", ""),
    ]
    for fields, field, message in cases:
        response = sign_up(client, "condition=asthma&age=33", **fields)
        assert response.status_code == 422, fields
        assert f'id="{field}-error"' in response.text, fields
        assert message in response.text
        assert 'value="33"' in response.text or field == "age"
    honeypot = sign_up(client, leave_empty="http://spam.example")
    assert honeypot.status_code == 422
    assert "hidden box" in honeypot.text
    no_token = client.post(
        "/alerts", data={"email": ROBIN, "condition": "asthma", "consent": "yes"}
    )
    assert no_token.status_code == 403
    assert 'value="asthma"' in no_token.text
    assert session.scalar(select(func.count()).select_from(Alert)) == 0
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_repeat_while_pending_sends_no_second_confirmation_within_a_day(
    client: TestClient, session: Session
) -> None:
    for _ in range(3):
        assert sign_up(client, "condition=asthma").status_code == 303
    assert sign_up(client, "condition=Asthma").status_code == 303  # the same search
    assert len(queued(session, "alert_confirm")) == 1
    alert = session.scalars(select(Alert)).one()
    alert.confirm_sent_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=24, minutes=1)
    session.commit()
    assert sign_up(client, "condition=asthma").status_code == 303
    first, second = queued(session, "alert_confirm")
    assert link(first.body_text or "", "confirm") != link(second.body_text or "", "confirm")
    # Each alert is confirmed on its own: another search is another alert.
    assert sign_up(client, "condition=eczema").status_code == 303
    assert session.scalar(select(func.count()).select_from(Alert)) == 2
    # Signing up again for an alert that is on sends nothing at all.
    confirm_all(session)
    assert sign_up(client, "condition=asthma").status_code == 303
    assert len(queued(session, "alert_confirm")) == 3


def test_five_sign_ups_an_hour_per_address(client: TestClient, session: Session) -> None:
    for condition in ("asthma", "eczema", "gout", "lupus", "migraine"):
        assert sign_up(client, f"condition={condition}").status_code == 303
    refused = sign_up(client, "condition=psoriasis")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert 'value="psoriasis"' in refused.text
    assert (
        sign_up(client, "condition=psoriasis", email="someone.else@example.net").status_code == 303
    )


def test_manage_link_by_email_reveals_nothing_and_lists_and_deletes(
    client: TestClient, session: Session
) -> None:
    assert sign_up(client, "condition=asthma").status_code == 303
    assert sign_up(client, "condition=eczema").status_code == 303
    confirm_all(session)
    form = client.get("/alerts/manage")
    known = client.post(
        "/alerts/manage", data={"email": ROBIN, "csrf_token": csrf_token(form.text)}
    )
    unknown = client.post(
        "/alerts/manage", data={"email": "nobody@example.net", "csrf_token": csrf_token(form.text)}
    )
    assert known.status_code == unknown.status_code == 200

    def strip(html: str) -> str:
        return re.sub(r'value="[^"]*"', "", html)

    assert strip(known.text) == strip(unknown.text)
    (mail,) = queued(session, "alert_manage")
    assert mail.recipients == [ROBIN]
    path = link(mail.body_text or "", "manage")
    listing = client.get(path)
    assert "Asthma" in listing.text
    assert "Eczema" in listing.text
    one = re.search(r'name="alert" value="([A-Za-z0-9_-]{16,})"', listing.text)
    assert one
    deleted = client.post(
        path, data={"alert": one.group(1), "csrf_token": csrf_token(listing.text)}
    )
    assert "1 alert was deleted" in deleted.text
    assert session.scalar(select(func.count()).select_from(Alert)) == 1
    # A requested link expires after 7 days: a clear page, 410.
    session.scalars(select(AlertLink)).one().expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(
        seconds=1
    )
    session.commit()
    expired = client.get(path)
    assert expired.status_code == 410
    assert "This link has expired" in expired.text


def test_the_unsubscribe_page_has_one_button(client: TestClient, session: Session) -> None:
    assert sign_up(client).status_code == 303
    alert = session.scalars(select(Alert)).one()
    page = client.get(f"/alerts/unsubscribe/{alert.unsubscribe_token}")
    assert page.status_code == 200
    assert page.text.count('type="submit"') == 1
    assert session.scalar(select(func.count()).select_from(Alert)) == 1  # GET removes nothing
    gone = client.post(
        f"/alerts/unsubscribe/{alert.unsubscribe_token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert gone.status_code == 200
    again = client.post(f"/alerts/unsubscribe/{alert.unsubscribe_token}", data={})
    assert again.status_code == 404
    assert "This link does not work" in again.text


def test_a_permanent_bounce_pauses_the_alert(
    client: TestClient,
    session: Session,
    db_sessionmaker: sessionmaker[Session],
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.refuse_recipient(ROBIN, "550 5.1.1 No such mailbox")
    assert sign_up(client).status_code == 303
    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    Worker(db_sessionmaker, SmtpSender.from_settings(config), config,
           on_bounce=pause_after_bounce).run_once()  # fmt: skip
    session.expire_all()
    alert = session.scalars(select(Alert)).one()
    assert alert.status == PAUSED
    assert alert.paused_at is not None
    (mail,) = queued(session, "alert_confirm")
    assert mail.status == "failed"
    # A transient refusal (4xx) pauses nothing.
    smtp_sink.fail_next("451 4.3.0 Try again later")
    assert sign_up(client, "condition=eczema", email="pat.example@example.net").status_code == 303
    Worker(db_sessionmaker, SmtpSender.from_settings(config), config,
           on_bounce=pause_after_bounce).run_once()  # fmt: skip
    session.expire_all()
    other = session.scalars(select(Alert).where(Alert.status == PENDING)).one()
    assert other.paused_at is None


def test_administrators_see_counts_only_and_masked_recipients(
    client: TestClient, session: Session
) -> None:
    assert sign_up(client, "condition=Narcolepsy").status_code == 303
    assert sign_up(client, "condition=asthma", email="pat.example@example.net").status_code == 303
    confirm_all(session)
    create_admin(session, email=ADMIN, password=PASSWORD, now=NOW)
    session.commit()
    assert log_in(client).status_code == 303
    dashboard = client.get("/admin").text
    assert re.search(r"<dt>Alerts</dt><dd>2</dd>", dashboard)
    assert re.search(r"<dt>Confirmed</dt><dd>2</dd>", dashboard)
    assert "Digests sent this week" in dashboard
    for page in (dashboard, client.get("/admin/outbox").text):
        assert ROBIN not in page
        assert "Narcolepsy" not in page
        assert "robin.example" not in page
    assert "r•••@e•••.net" in client.get("/admin/outbox").text


def test_erase_and_purge_remove_alerts(
    client: TestClient,
    session: Session,
    db_sessionmaker: sessionmaker[Session],
    settings: Settings,
) -> None:
    assert sign_up(client, "condition=asthma").status_code == 303
    assert sign_up(client, "condition=gout", email="pat.example@example.net").status_code == 303
    assert sign_up(client, "condition=lupus", email="sam.example@example.net").status_code == 303
    removed = erase_person(session, ROBIN, settings=settings, now=dt.datetime.now(dt.UTC))
    session.commit()
    assert removed.alerts == 1
    left = {a.email for a in session.scalars(select(Alert))}
    assert left == {"pat.example@example.net", "sam.example@example.net"}
    # Pat never confirms; Sam's mail bounced long ago.
    now = dt.datetime.now(dt.UTC)
    for alert in session.scalars(select(Alert)):
        if alert.email.startswith("pat"):
            alert.confirm_sent_at = now - dt.timedelta(days=8)
        else:
            alert.status, alert.paused_at = (
                PAUSED,
                now - dt.timedelta(days=settings.retention_days + 1),
            )
    session.commit()
    summary = purge_everything(db_sessionmaker, settings=settings, now=now)
    assert "2 alert(s)" in summary
    assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_the_daily_schedule_sends_digests_once_a_day_on_a_fixed_clock(
    committed_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    from app.alerts.forms import AlertSignup
    from app.alerts.searches import AlertSearch
    from app.alerts.service import sign_up as store_sign_up
    from app.studies.search import SearchParams

    sessions = committed_sessionmaker
    day = dt.datetime(2027, 3, 1, 6, 0, tzinfo=dt.UTC)
    clock = {"now": day}
    with sessions() as session:
        search = AlertSearch.of(SearchParams(condition="asthma"), None)
        store_sign_up(session, AlertSignup(ROBIN, search, "alerts"), settings=settings, now=day)
        confirm_all(session)
        for alert in session.scalars(select(Alert)):
            alert.confirmed_at = day
        session.commit()
    sender = MemorySender()
    worker = Worker(sessions, sender, settings, clock=lambda: clock["now"],
                    daily_jobs=daily_jobs(settings))  # fmt: skip

    def day_passes(hours: float, *studies: dict[str, object]) -> dict[str, str]:
        clock["now"] = day + dt.timedelta(hours=hours)
        if studies:
            with sessions() as session:
                load_at(session, clock["now"] - dt.timedelta(minutes=5), *studies)
        done = worker.run_daily_jobs()
        worker.run_once()
        return done

    assert "send-alerts" in day_passes(1)  # first run: nothing new yet
    assert "send-alerts" not in day_passes(20, f.study(title="Asthma study of the day"))
    assert [m for m in sender.sent if "digest" in m.message_id] == []
    ran = day_passes(25)
    assert "1 digest(s)" in ran["send-alerts"]
    digests = [m for m in sender.sent if "digest" in m.message_id]
    assert len(digests) == 1
    assert "Asthma study of the day" in digests[0].text
    assert "send-alerts" not in day_passes(48.9)
    assert "0 digest(s)" in day_passes(49)["send-alerts"]
    with sessions() as session:
        row = session.get(jobs.DailyJobRun, "send-alerts")
        assert row is not None
        assert row.last_run_at == day + dt.timedelta(hours=49)


@pytest.mark.parametrize("path", ["/alerts", "/alerts/manage"])
def test_alert_forms_never_answer_500_to_odd_input(client: TestClient, path: str) -> None:
    page = client.get("/alerts/manage" if path.endswith("manage") else "/alerts?condition=x")
    token = csrf_token(page.text)
    odd = ["", " ", "\x00", "é" * 5000, "%", "<script>", "1e309", "-1", "NaN", "\u202e", "a\r\nb"]
    for value in odd:
        data = dict.fromkeys(
            (
                "email",
                "condition",
                "age",
                "sex",
                "location",
                "lat",
                "lon",
                "radius_km",
                "consent",
                "status",
                "from",
            ),
            value,
        )
        data["csrf_token"] = token
        response = client.post(path, data=data)
        assert response.status_code in (200, 303, 422), (value, response.status_code)


ALERT_FIELDS = [
    "email", "condition", "age", "sex", "location", "lat", "lon", "radius_km", "consent",
    "status", "from", "leave_empty",
]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=st.dictionaries(st.sampled_from(ALERT_FIELDS), st.text(max_size=80), max_size=10))
def test_fuzzed_sign_ups_never_cause_a_server_error(
    client: TestClient, form: dict[str, str]
) -> None:
    page = client.get("/alerts")
    response = client.post(
        "/alerts", data={**form, "csrf_token": csrf_token(page.text)}, follow_redirects=False
    )
    assert response.status_code in (303, 422, 429), response.text[:300]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(segment=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=120))
def test_fuzzed_alert_links_are_404_never_500(client: TestClient, segment: str) -> None:
    for kind in ("confirm", "unsubscribe", "manage"):
        path = f"/alerts/{kind}/{quote(segment, safe='')}"
        got = client.get(path)
        assert got.status_code == 404, (kind, segment, got.status_code)
        posted = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert posted.status_code in (403, 404), (kind, segment, posted.status_code)


def test_a_failure_of_our_own_pauses_nothing(
    client: TestClient, session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    """Only the mail server's refusal (5xx) pauses alerts: a message we could not even
    compose (no SMTP code) is failed for an administrator, and the alert stays."""
    from app.outbox.email.senders import DeliveryError, OutgoingEmail

    class Broken(MemorySender):
        def send(self, email: OutgoingEmail) -> None:
            raise DeliveryError("unexpected error: ValueError", transient=False)

    assert sign_up(client).status_code == 303
    Worker(db_sessionmaker, Broken(), settings, on_bounce=pause_after_bounce).run_once()
    session.expire_all()
    assert queued(session, "alert_confirm")[0].status == "failed"
    assert session.scalars(select(Alert)).one().status == PENDING


def test_the_privacy_page_covers_alerts(client: TestClient) -> None:
    from app.alerts.consent import wording

    page = client.get("/privacy").text
    assert "Alerts about new studies" in page
    assert wording(CONSENT_VERSION) in page
    assert "An alert you never confirm is deleted 7 days after you sign up" in page
