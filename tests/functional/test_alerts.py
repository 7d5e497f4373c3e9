"""Patient Notification Services end to end: sign up, confirm, digest, unsubscribe, on both
databases, with the mail going through a real SMTP server."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.digest import send_alerts
from app.alerts.models import ACTIVE, PENDING, Alert, AlertStudy
from app.alerts.service import pause_after_bounce
from app.config import Settings
from app.main import create_app
from app.outbox.email.senders import SmtpSender
from app.outbox.worker import Worker
from tests import factories as f
from tests.alert_helpers import link, load_at, sign_up
from tests.conftest import smtp_settings
from tests.smtp_server import SmtpSink

CHICAGO = f.site(facility="Lakeshore Lung Clinic", city="Chicago", lat=41.88, lon=-87.63)
MILWAUKEE = f.site(facility="Brewer Chest Center", city="Milwaukee", state="Wisconsin",
                   zip="53202", lat=43.04, lon=-87.91)  # fmt: skip


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def deliver(sessions: sessionmaker[Session], settings: Settings, sink: SmtpSink) -> Worker:
    config = smtp_settings(settings, sink.host, sink.port)
    # The test's imports and digests run a little in the future: so does this worker.
    worker = Worker(
        sessions,
        SmtpSender.from_settings(config),
        config,
        on_bounce=pause_after_bounce,
        clock=lambda: later(60),
    )
    worker.run_once()
    return worker


def later(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def test_sign_up_confirm_digest_once_then_one_click_unsubscribe(
    client: TestClient,
    session: Session,
    db_sessionmaker: sessionmaker[Session],
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    # 1. Sign up from the results page's link, with a place and a radius.
    query = "condition=asthma&location=Chicago&radius_km=50&status=RECRUITING&from=results"
    sent = sign_up(client, query)
    assert sent.status_code == 303
    assert sent.headers["location"].endswith("/alerts/check-email")
    assert "Check your email" in client.get(sent.headers["location"]).text

    # 2. The confirmation mail arrives, and nothing else.
    deliver(db_sessionmaker, settings, smtp_sink)
    (confirmation,) = smtp_sink.wait_for(1)
    message = confirmation.message
    assert confirmation.rcpt_tos == ["robin.example@example.net"]
    assert "asthma" not in message["Subject"].lower()
    confirm_path = link(body(message), "confirm")
    unsubscribe_url = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # 3. Opening the link (as a mail scanner would) subscribes nobody.
    page = client.get(confirm_path)
    assert page.status_code == 200
    assert 'type="submit"' in page.text
    assert "Confirm" in page.text
    (alert,) = session.scalars(select(Alert)).all()
    assert alert.status == PENDING
    load_at(session, later(1), f.study(title="Breathing easier with a made-up inhaler",
                                       sites=[CHICAGO]))  # fmt: skip
    assert send_alerts(db_sessionmaker, settings=settings, now=later(2)).digests == 0
    deliver(db_sessionmaker, settings, smtp_sink)
    assert len(smtp_sink.messages) == 1  # nothing but the confirmation before confirming

    # 4. Confirm: the button's POST.
    from tests.alert_helpers import csrf_token

    done = client.post(confirm_path, data={"csrf_token": csrf_token(page.text)})
    assert done.status_code == 200
    assert "Your alert is on" in done.text
    session.expire_all()
    alert = session.scalars(select(Alert)).one()
    assert alert.status == ACTIVE
    assert alert.consent_page == "results"

    # 5. A new matching study is imported; the digest arrives naming it.
    new = f.study(title="A made-up trial of a breathing exercise for asthma",
                  sites=[MILWAUKEE, CHICAGO])  # fmt: skip
    new_nct = new["protocolSection"]["identificationModule"]["nctId"]
    denver = f.site(city="Denver", state="Colorado", lat=39.74, lon=-104.99)
    far = f.study(title="An asthma study too far away", sites=[denver])
    load_at(session, later(3), new, far)
    report = send_alerts(db_sessionmaker, settings=settings, now=later(4))
    assert report.digests == 1
    deliver(db_sessionmaker, settings, smtp_sink)
    digest = smtp_sink.wait_for(2)[1].message
    text = body(digest)
    assert "A made-up trial of a breathing exercise for asthma" in text
    assert new_nct in text
    assert "Lakeshore Lung Clinic, Chicago" in text  # the nearest site, with its distance
    assert "too far away" not in text
    assert "asthma" not in digest["Subject"].lower()
    assert digest["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/studies?condition=asthma" in text  # the rest: the alert's results page

    # 6. Run it again: nothing more comes.
    assert send_alerts(db_sessionmaker, settings=settings, now=later(5)).digests == 0
    deliver(db_sessionmaker, settings, smtp_sink)
    assert len(smtp_sink.messages) == 2

    # 7. One-click unsubscribe, as a mail client does it: no cookie, no token.
    path = unsubscribe_url.split("://", 1)[1].split("/", 1)[1]
    with TestClient(client.app) as mail_client:
        left = mail_client.post(
            f"/{path}",
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert left.status_code == 200
    assert "You are unsubscribed" in left.text
    session.expire_all()
    assert session.scalars(select(Alert)).all() == []
    assert session.scalars(select(AlertStudy)).all() == []

    # 8. Another matching study: no mail comes.
    load_at(session, later(6), f.study(title="One more asthma study", sites=[CHICAGO]))
    assert send_alerts(db_sessionmaker, settings=settings, now=later(7)).digests == 0
    deliver(db_sessionmaker, settings, smtp_sink)
    assert len(smtp_sink.messages) == 2


@pytest.mark.parametrize(
    "path",
    [
        "/alerts/confirm/{token}",
        "/alerts/unsubscribe/{token}",
        "/alerts/manage/{token}",
    ],
)
def test_tampered_and_malformed_links_get_a_clear_page_never_a_500(
    client: TestClient, session: Session, path: str
) -> None:
    assert sign_up(client).status_code == 303
    real = session.scalars(select(Alert)).one()
    token = real.manage_token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "x" * 43, "short", "x" * 500, "%00%0d%0a", "..%2f..%2fetc"):
        for method in ("GET", "POST"):
            response = client.request(method, path.format(token=bad), data={})
            assert response.status_code in (403, 404), (bad, method, response.status_code)
            if response.status_code == 404 and "%2f" not in bad:
                assert "This link does not work" in response.text
            elif response.status_code == 404:  # not even an alert address
                assert "We could not find that page" in response.text
    session.expire_all()
    assert session.scalars(select(Alert)).one().status == PENDING  # nothing changed


def test_confirmation_link_expires_after_seven_days(client: TestClient, session: Session) -> None:
    assert sign_up(client).status_code == 303
    alert = session.scalars(select(Alert)).one()
    mail = session.scalars(select(Alert)).one()
    del mail
    from app.outbox.models import OutboxMessage

    message = session.scalars(select(OutboxMessage)).one()
    confirm_path = link(message.body_text or "", "confirm")
    alert.confirm_sent_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=7, minutes=1)
    session.commit()
    page = client.get(confirm_path)
    assert page.status_code == 410
    assert "This link has expired" in page.text
    assert client.post(confirm_path, data={}).status_code in (403, 410)


def test_links_keep_working_after_the_secret_key_changes(
    client: TestClient,
    session: Session,
    settings: Settings,
    db_sessionmaker: sessionmaker[Session],
) -> None:
    assert sign_up(client).status_code == 303
    alert = session.scalars(select(Alert)).one()
    alert.status, alert.confirmed_at = ACTIVE, dt.datetime.now(dt.UTC)
    session.commit()
    manage, unsubscribe = alert.manage_token, alert.unsubscribe_token
    rotated = settings.model_copy(
        update={"secret_key": "a-completely-different-secret-key-0123456789"}
    )
    app = create_app(rotated)
    app.state.sessionmaker = db_sessionmaker
    with TestClient(app) as other:
        listing = other.get(f"/alerts/manage/{manage}")
        assert listing.status_code == 200
        # A page opened by a secret link: not cached, not indexed, no referrer to follow it.
        assert listing.headers["Cache-Control"] == "no-store"
        assert listing.headers["X-Robots-Tag"] == "noindex, nofollow"
        assert listing.headers["Referrer-Policy"] == "no-referrer"
        assert "Asthma" in listing.text
        assert other.get(f"/alerts/unsubscribe/{unsubscribe}").status_code == 200
