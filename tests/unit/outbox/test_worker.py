"""The outbox and its worker against a real SMTP server, on SQLite and PostgreSQL.

Faults are real too: a port with nothing listening, a server answering 451 or 550, a
worker that claimed rows and died.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections import Counter
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.contact.forms import ContactSubmission
from app.contact.service import submit_contact_request
from app.outbox.email.senders import SmtpSender
from app.outbox.models import OutboxMessage
from app.outbox.queue import Letter, claim, enqueue, retry_failed
from app.outbox.worker import Worker
from app.studies.models import Site, Study
from tests import factories as f
from tests.conftest import NOW, load, smtp_settings
from tests.smtp_server import SmtpSink, free_port

SITE_CONTACT = {"name": "Dana Example", "role": "CONTACT", "email": "dana@example.org"}


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def make_worker(
    sessions: sessionmaker[Session], settings: Settings, clock: Clock, name: str = "w1"
) -> Worker:
    return Worker(
        sessions,
        SmtpSender.from_settings(settings),
        settings,
        name=name,
        clock=clock,
        rng=random.Random(1),
    )


def submit(
    session: Session, email: str = "ana.lima@example.com", **study_changes: Any
) -> tuple[Study, Site]:
    record = f.study(
        title="Breathing exercises for adults with asthma",
        sites=[f.site(facility="Near Clinic", city="Evanston", contacts=[SITE_CONTACT])],
        **study_changes,
    )
    load(session, record)
    study = session.scalars(
        select(Study).where(
            Study.nct_id == record["protocolSection"]["identificationModule"]["nctId"]
        )
    ).one()
    site = study.sites[0]
    submission = ContactSubmission(
        first_name="Ana",
        last_name="Lima",
        email=email,
        phone="+12024561111",
        language="pt",
        site_id=site.id,
        consent=True,
    )
    submit_contact_request(
        session,
        study=study,
        site=site,
        submission=submission,
        settings=Settings(_env_file=None),
        now=NOW,
    )
    session.commit()
    return study, site


def part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())


def statuses(session: Session) -> dict[str, str]:
    session.expire_all()
    return {m.kind: m.status for m in session.scalars(select(OutboxMessage))}


def test_both_emails_arrive_as_promised(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    study, _ = submit(session)
    worker = make_worker(
        db_sessionmaker, smtp_settings(settings, smtp_sink.host, smtp_sink.port), Clock(NOW)
    )
    counts = worker.run_once()
    assert (counts.sent, counts.retried, counts.failed) == (2, 0, 0)
    received = {tuple(m.rcpt_tos): m.message for m in smtp_sink.wait_for(2)}

    to_site = received[("dana@example.org",)]
    assert to_site["To"] == "dana@example.org"
    assert to_site["Reply-To"] == "ana.lima@example.com"
    assert study.nct_id in to_site["Subject"]
    assert "\n" not in to_site["Subject"]
    assert to_site["Message-ID"].startswith("<contact-")
    body = part(to_site, "plain")
    for expected in (
        study.nct_id,
        study.brief_title,
        "Near Clinic",
        "Ana Lima",
        "ana.lima@example.com",
        "+1 202-456-1111",  # the international format
        "Portuguese",
        f"/studies/{study.nct_id}",
    ):
        assert expected in body, expected
    html = part(to_site, "html")
    assert "Ana Lima" in html
    assert "<table" in html

    copy = received[("ana.lima@example.com",)]
    assert copy["Reply-To"] == "dana@example.org"
    copy_body = part(copy, "plain")
    assert (
        "We have submitted the contact information you provided to the research team at Near Clinic"
        in copy_body
    )
    assert "What happens next" in copy_body
    assert statuses(session) == {"contact_site": "sent", "contact_patient": "sent"}
    assert worker.run_once().sent == 0  # nothing is sent twice


def test_smtp_down_then_up_delivers_everything_once(
    db_sessionmaker: sessionmaker[Session], session: Session, settings: Settings
) -> None:
    submit(session)
    port = free_port()
    clock = Clock(NOW)
    worker = make_worker(db_sessionmaker, smtp_settings(settings, "127.0.0.1", port), clock)
    counts = worker.run_once()
    assert (counts.sent, counts.retried) == (0, 2)
    session.expire_all()
    rows = session.scalars(select(OutboxMessage)).all()
    assert all(r.status == "queued" and r.attempts == 1 and r.last_error for r in rows)
    assert all(r.next_attempt_at > NOW for r in rows)
    assert worker.run_once().sent == 0  # not due yet: backoff holds
    with SmtpSink(port=port) as sink:
        clock.advance(settings.outbox_backoff_seconds + 1)
        assert worker.run_once().sent == 2
        ids = [m.message["Message-ID"] for m in sink.wait_for(2)]
    assert len(set(ids)) == 2
    assert statuses(session) == {"contact_site": "sent", "contact_patient": "sent"}


def test_451_then_250(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    submit(session)
    clock = Clock(NOW)
    worker = make_worker(
        db_sessionmaker, smtp_settings(settings, smtp_sink.host, smtp_sink.port), clock
    )
    smtp_sink.fail_next("451 4.3.0 Try again later", times=2)
    assert worker.run_once().retried == 2
    session.expire_all()
    assert all("451" in (m.last_error or "") for m in session.scalars(select(OutboxMessage)))
    clock.advance(3600)
    assert worker.run_once().sent == 2
    assert len(smtp_sink.wait_for(2)) == 2
    session.expire_all()
    history = [h["outcome"] for m in session.scalars(select(OutboxMessage)) for h in m.history]
    assert Counter(history) == {"retry": 2, "sent": 2}


def test_550_fails_visibly_and_an_admin_retry_delivers(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    submit(session)
    clock = Clock(NOW)
    worker = make_worker(
        db_sessionmaker, smtp_settings(settings, smtp_sink.host, smtp_sink.port), clock
    )
    smtp_sink.fail_next("550 5.1.1 No such mailbox", times=2)
    assert worker.run_once().failed == 2
    session.expire_all()
    failed = session.scalars(select(OutboxMessage)).all()
    assert all(m.status == "failed" and "550" in (m.last_error or "") for m in failed)
    clock.advance(10 * 3600)
    assert worker.run_once().sent == 0  # failed for good: no automatic retry
    for message in failed:
        retry_failed(session, message, now=clock())
    session.commit()
    assert worker.run_once().sent == 2
    assert len(smtp_sink.wait_for(2)) == 2


def test_transient_failures_stop_at_the_configured_limit(
    db_sessionmaker: sessionmaker[Session], session: Session, settings: Settings
) -> None:
    submit(session)
    clock = Clock(NOW)
    limited = smtp_settings(settings, "127.0.0.1", free_port()).model_copy(
        update={"outbox_max_attempts": 3}
    )
    worker = make_worker(db_sessionmaker, limited, clock)
    outcomes = []
    for _ in range(5):
        counts = worker.run_once()
        outcomes.append((counts.retried, counts.failed))
        clock.advance(limited.outbox_backoff_max_seconds + 1)
    assert outcomes == [(2, 0), (2, 0), (0, 2), (0, 0), (0, 0)]
    session.expire_all()
    assert all(m.attempts == 3 for m in session.scalars(select(OutboxMessage)))


def test_a_crashed_workers_rows_are_delivered_after_the_lease(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    submit(session)
    clock = Clock(NOW)
    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    # Worker A claims both rows and dies before sending or recording anything.
    with db_sessionmaker() as crashed, crashed.begin():
        claimed = claim(crashed, worker="A", now=clock(), lease_seconds=config.outbox_lease_seconds)
    assert len(claimed) == 2
    worker_b = make_worker(db_sessionmaker, config, clock, name="B")
    assert worker_b.run_once().sent == 0  # the lease still holds
    clock.advance(config.outbox_lease_seconds + 1)
    assert worker_b.run_once().sent == 2
    received = smtp_sink.wait_for(2)
    assert sorted(m.message["Message-ID"] for m in received) == sorted(
        c.email.message_id for c in claimed
    )
    session.expire_all()
    assert all(m.attempts == 2 for m in session.scalars(select(OutboxMessage)))


def test_a_worker_whose_lease_was_taken_over_does_not_overwrite_the_outcome(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    submit(session)
    clock = Clock(NOW)
    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    slow = make_worker(db_sessionmaker, config, clock, name="slow")
    with db_sessionmaker() as s, s.begin():
        stale = claim(s, worker="slow", now=clock(), lease_seconds=1)
    clock.advance(5)
    assert make_worker(db_sessionmaker, config, clock, name="fast").run_once().sent == 2
    from app.outbox.queue import record_outcome
    from app.outbox.retry import RetryPolicy

    with db_sessionmaker() as s, s.begin():
        assert (
            record_outcome(
                s,
                claimed=stale[0],
                worker="slow",
                now=clock(),
                error=None,
                policy=RetryPolicy.from_settings(config),
            )
            == "lost-lease"
        )
    assert slow.run_once().sent == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_several_workers_on_postgresql_never_send_a_row_twice(
    committed_sessionmaker: sessionmaker[Session], settings: Settings, smtp_sink: SmtpSink
) -> None:
    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    with committed_sessionmaker() as session, session.begin():
        for n in range(120):
            letter = Letter(
                f"<load-{n}@test.example>",
                "test",
                (f"r{n}@example.org",),
                None,
                f"M {n}",
                "Hi",
                None,
            )
            enqueue(session, letter, sender="TrialFinder <a@example.org>", now=NOW)
    clock = Clock(NOW + dt.timedelta(seconds=1))
    workers = [make_worker(committed_sessionmaker, config, clock, name=f"w{i}") for i in range(4)]
    results: list[int] = []
    barrier = threading.Barrier(len(workers))
    smtp_sink.fail_next("451 4.3.0 Try again later")  # one message must wait for its retry

    def run(worker: Worker) -> None:
        barrier.wait()
        results.append(worker.run_once(batch=5).sent)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(1 for r in results if r) > 1, "the work was not shared between workers"
    # A send that failed for a moment (on a loaded machine the SMTP connection can time
    # out) is retried later, never lost and never doubled: past the retry delay, the
    # workers send what is left.
    assert sum(results) < 120
    for _ in range(5):
        if sum(results) == 120:
            break
        clock.advance(config.outbox_backoff_max_seconds + 1)
        results += [worker.run_once(batch=120).sent for worker in workers]
    received = Counter(m.message["Message-ID"] for m in smtp_sink.wait_for(120))
    assert sum(results) == 120
    assert len(received) == 120
    assert set(received.values()) == {1}


def test_a_crash_after_the_server_accepted_resends_with_the_same_message_id(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    """The one case in which a message goes out twice, recognisably the same message."""
    submit(session)
    clock = Clock(NOW)
    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    with db_sessionmaker() as crashed, crashed.begin():
        claimed = claim(crashed, worker="A", now=clock(), lease_seconds=config.outbox_lease_seconds)
    sender = SmtpSender.from_settings(config)
    sender.send(claimed[0].email)  # accepted by the server, then worker A dies
    clock.advance(config.outbox_lease_seconds + 1)
    assert make_worker(db_sessionmaker, config, clock, name="B").run_once().sent == 2
    ids = Counter(m.message["Message-ID"] for m in smtp_sink.wait_for(3))
    assert ids[claimed[0].email.message_id] == 2
    assert ids[claimed[1].email.message_id] == 1


def test_the_lease_is_renewed_per_message_and_a_lost_one_is_not_sent(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
) -> None:
    from app.outbox.queue import renew_lease

    submit(session)
    clock = Clock(NOW)
    config = smtp_settings(settings, smtp_sink.host, smtp_sink.port)
    with db_sessionmaker() as s, s.begin():
        batch = claim(s, worker="A", now=clock(), lease_seconds=10)
    clock.advance(8)
    with db_sessionmaker() as s, s.begin():
        assert renew_lease(s, claimed=batch[0], worker="A", now=clock(), lease_seconds=10)
    clock.advance(4)  # past the first lease, inside the renewed one
    counts = make_worker(db_sessionmaker, config, clock, name="B").run_once()
    assert counts.sent == 1  # only the message whose lease A did not renew
    with db_sessionmaker() as s, s.begin():
        assert not renew_lease(s, claimed=batch[1], worker="A", now=clock(), lease_seconds=10)
    assert len(smtp_sink.wait_for(1)) == 1


def test_a_refusal_quoting_an_address_is_not_logged(
    db_sessionmaker: sessionmaker[Session],
    session: Session,
    settings: Settings,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    submit(session)
    worker = make_worker(
        db_sessionmaker, smtp_settings(settings, smtp_sink.host, smtp_sink.port), Clock(NOW)
    )
    smtp_sink.fail_next("550 5.1.1 <ana.lima@example.com>: Recipient address rejected", times=2)
    with caplog.at_level(logging.INFO):
        assert worker.run_once().failed == 2
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("trialfinder")]
    assert any("failed for good (SMTP code 550)" in line for line in ours)
    assert not any("ana.lima" in line for line in ours)
