"""What a digest finds: the site's own search rules, applied to what became visible to each
alert since its last digest (both databases, the importer's real timestamps)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.alerts.digest import LISTED, send_alerts
from app.alerts.forms import AlertSignup
from app.alerts.models import ACTIVE, Alert, AlertStudy
from app.alerts.searches import AlertSearch
from app.alerts.service import sign_up
from app.config import Settings
from app.geo.places import Place
from app.outbox.models import OutboxMessage
from app.studies.rules import NOT_YET_RECRUITING, RECRUITING
from app.studies.search import SearchParams
from tests import factories as f
from tests.alert_helpers import load_at

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
CHICAGO = Place("Chicago", 41.88, -87.63)
NEAR: dict[str, Any] = {"city": "Evanston", "lat": 42.05, "lon": -87.69}  # about 19 km from Chicago
FAR: dict[str, Any] = {"city": "Denver", "state": "Colorado", "lat": 39.74, "lon": -104.99}


def hours(n: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=n)


def alert(
    session: Session,
    settings: Settings,
    *,
    email: str = "robin.example@example.net",
    origin: Place | None = None,
    confirmed: dt.datetime = T0,
    **params: Any,
) -> Alert:
    """A confirmed alert for this search, as the sign-up and confirmation leave it."""
    search = AlertSearch.of(SearchParams(**{"condition": "asthma", **params}), origin)
    sign_up(session, AlertSignup(email, search, "alerts"), settings=settings, now=confirmed)
    row = session.scalars(select(Alert).order_by(Alert.id.desc())).first()
    assert row is not None
    row.status, row.confirmed_at = ACTIVE, confirmed
    session.commit()
    return row


def run(sessions: sessionmaker[Session], settings: Settings, when: dt.datetime) -> int:
    return send_alerts(sessions, settings=settings, now=when).digests


def digests(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == "alert_digest")
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def nct(study: dict[str, Any]) -> str:
    return str(study["protocolSection"]["identificationModule"]["nctId"])


def test_studies_listed_before_confirmation_are_not_new(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    load_at(session, hours(-1), f.study())
    alert(session, settings)
    assert run(db_sessionmaker, settings, hours(1)) == 0
    load_at(session, hours(2), f.study(title="Brand new asthma study"))
    assert run(db_sessionmaker, settings, hours(3)) == 1
    (mail,) = digests(session)
    assert "Brand new asthma study" in (mail.body_text or "")
    assert "A fictional study" not in (mail.body_text or "")


def test_the_search_rules_decide_condition_age_sex_and_status(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    alert(session, settings, age=70, sex="female")
    wanted = [
        f.study(title="Asthma in older women", sex="FEMALE", max_age="80 Years"),
        f.study(title="Asthma for everyone", sex="ALL", min_age=None),
        f.study(title="Bronchial asthma, typo tolerant", conditions=("Asthma, Bronchial",)),
    ]
    unwanted = [
        f.study(title="Asthma in men", sex="MALE"),
        f.study(title="Asthma in children", max_age="17 Years"),
        f.study(title="Eczema only", conditions=("Eczema",)),
        f.study(title="Asthma opening soon", status=NOT_YET_RECRUITING),
        f.study(title="Asthma, completed", status="COMPLETED"),
    ]
    load_at(session, hours(1), *wanted, *unwanted)
    assert run(db_sessionmaker, settings, hours(2)) == 1
    text = digests(session)[0].body_text or ""
    for study in wanted:
        assert study["protocolSection"]["identificationModule"]["briefTitle"] in text
    for study in unwanted:
        assert study["protocolSection"]["identificationModule"]["briefTitle"] not in text


def test_open_soon_alerts_also_hear_about_not_yet_recruiting_studies(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    alert(session, settings, status=[RECRUITING, NOT_YET_RECRUITING])
    load_at(session, hours(1), f.study(title="Asthma opening soon", status=NOT_YET_RECRUITING))
    assert run(db_sessionmaker, settings, hours(2)) == 1
    assert "Not yet recruiting" in (digests(session)[0].body_text or "")


def test_a_study_newly_recruiting_is_new_and_never_sent_twice(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    waiting = f.study(title="Asthma study about to open", status=NOT_YET_RECRUITING)
    load_at(session, hours(-5), waiting)
    alert(session, settings)
    assert run(db_sessionmaker, settings, hours(1)) == 0
    waiting["protocolSection"]["statusModule"]["overallStatus"] = RECRUITING
    load_at(session, hours(2), waiting)
    assert run(db_sessionmaker, settings, hours(3)) == 1
    # It pauses and opens again: still never the same study twice.
    waiting["protocolSection"]["statusModule"]["overallStatus"] = "SUSPENDED"
    load_at(session, hours(4), waiting)
    waiting["protocolSection"]["statusModule"]["overallStatus"] = RECRUITING
    load_at(session, hours(5), waiting)
    assert run(db_sessionmaker, settings, hours(6)) == 0
    assert len(digests(session)) == 1


def test_a_new_site_within_the_radius_makes_a_listed_study_new(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    study = f.study(title="Asthma study opening sites", sites=[f.site(**FAR)])
    load_at(session, hours(-5), study)
    alert(session, settings, origin=CHICAGO, radius_km=50)
    assert run(db_sessionmaker, settings, hours(1)) == 0
    # A site opens elsewhere, still far: nothing. Then one near Chicago: the study is new.
    study["protocolSection"]["contactsLocationsModule"]["locations"].append(
        f.site(facility="Mile High Clinic", **FAR)
    )
    load_at(session, hours(2), study)
    assert run(db_sessionmaker, settings, hours(3)) == 0
    study["protocolSection"]["contactsLocationsModule"]["locations"].append(
        f.site(facility="Lakeside Chest Clinic", **NEAR)
    )
    load_at(session, hours(4), study)
    assert run(db_sessionmaker, settings, hours(5)) == 1
    text = digests(session)[0].body_text or ""
    assert "Lakeside Chest Clinic, Evanston" in text
    assert "km away" in text
    assert "?location=Chicago" in text  # the study page lists its sites nearest first


def test_a_site_that_opens_near_the_patient_counts_and_a_closed_one_does_not(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    study = f.study(
        title="Asthma with a waiting site", sites=[f.site(status="NOT_YET_RECRUITING", **NEAR)]
    )
    load_at(session, hours(-5), study)
    alert(session, settings, origin=CHICAGO, radius_km=50)
    assert run(db_sessionmaker, settings, hours(1)) == 0
    study["protocolSection"]["contactsLocationsModule"]["locations"][0]["status"] = RECRUITING
    load_at(session, hours(2), study)
    assert run(db_sessionmaker, settings, hours(3)) == 1


def test_up_to_ten_studies_are_listed_and_every_one_counts_as_sent(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    subscriber = alert(session, settings)
    many = [f.study(title=f"Asthma study number {i:02d}") for i in range(LISTED + 3)]
    load_at(session, hours(1), *many)
    assert run(db_sessionmaker, settings, hours(2)) == 1
    text = digests(session)[0].body_text or ""
    assert sum(f"Asthma study number {i:02d}" in text for i in range(LISTED + 3)) == LISTED
    assert "And 3 more" in text
    assert "/studies?condition=asthma" in text
    sent = session.scalars(select(AlertStudy).where(AlertStudy.alert_id == subscriber.id)).all()
    assert len(sent) == LISTED + 3
    assert run(db_sessionmaker, settings, hours(3)) == 0


def test_each_alert_gets_its_own_digest_and_subjects_carry_no_condition(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    alert(session, settings, email="one@example.net")
    alert(session, settings, email="two@example.net", condition="eczema")
    alert(session, settings, email="three@example.net", condition="psoriasis")
    load_at(
        session,
        hours(1),
        f.study(title="Asthma trial"),
        f.study(title="Eczema trial", conditions=("Atopic Eczema",)),
    )
    assert run(db_sessionmaker, settings, hours(2)) == 2
    mails = digests(session)
    assert sorted(m.recipients[0] for m in mails if m.recipients) == [
        "one@example.net",
        "two@example.net",
    ]
    for mail in mails:
        subject = (mail.subject or "").lower()
        assert "asthma" not in subject
        assert "eczema" not in subject


def test_a_dry_run_works_it_out_and_sends_nothing(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    alert(session, settings)
    load_at(session, hours(1), f.study())
    report = send_alerts(db_sessionmaker, settings=settings, now=hours(2), dry_run=True)
    assert (report.digests, report.studies) == (1, 1)
    assert digests(session) == []
    assert run(db_sessionmaker, settings, hours(3)) == 1


def test_an_alert_unsubscribed_while_the_digest_runs_gets_nothing(
    committed_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    from app.alerts import digest

    sessions = committed_sessionmaker
    with sessions() as session:
        subscriber = alert(session, settings)
        load_at(session, hours(1), f.study())
    worked_out = digest.work_out

    def then_unsubscribe(s: Session, **kwargs: Any) -> Any:
        found = worked_out(s, **kwargs)
        with sessions() as other:  # another connection: the patient's click
            other.delete(other.get(Alert, subscriber.id))
            other.commit()
        return found

    digest.work_out = then_unsubscribe  # type: ignore[assignment]
    try:
        report = send_alerts(sessions, settings=settings, now=hours(2))
    finally:
        digest.work_out = worked_out
    assert (report.digests, report.skipped) == (0, 1)
    with sessions() as session:
        assert digests(session) == []


def test_administrators_counts_follow_the_digests(
    session: Session, db_sessionmaker: sessionmaker[Session], settings: Settings
) -> None:
    from app.alerts.service import counts

    alert(session, settings)
    alert(session, settings, email="two@example.net", condition="eczema")
    load_at(session, hours(1), f.study())
    assert run(db_sessionmaker, settings, hours(2)) == 1
    now = counts(session, now=hours(3))
    assert (now.alerts, now.confirmed, now.paused, now.sent_this_week) == (2, 2, 0, 1)
    assert counts(session, now=hours(2) + dt.timedelta(days=8)).sent_this_week == 0
