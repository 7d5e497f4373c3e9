"""Submitting a contact request: store it and queue both emails in the caller's transaction.

Nothing here commits: the web request owns its one writing transaction, so the request
and its two outbox rows are stored together or not at all, and a request refused by the
per-address limit leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import ratelimit
from app.addresses import address_key, lookup_key
from app.config import Settings
from app.contact.consent import CONSENT_VERSION
from app.contact.emails import (
    ContactEmail,
    Patient,
    PatientCopy,
    PublishedContact,
    SiteEmail,
    StudyName,
)
from app.contact.forms import ContactSubmission
from app.contact.models import STUDY_TEAM, ContactRequest
from app.contact.routing import Routing, route_request
from app.languages import language_name
from app.outbox.email.rendering import render_email
from app.outbox.queue import Letter, enqueue
from app.studies.checklist import Answered
from app.studies.models import Site, Study

log = logging.getLogger("trialfinder.contact")
REPEAT_WINDOW = dt.timedelta(hours=24)
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{16,43}")
# Each request sends a copy to the address typed in, so one address may not be made to
# receive mail without end: a patient contacting several studies stays well under this.
ADDRESS_LIMIT = ratelimit.Limit("contact-address", times=10, window=dt.timedelta(hours=1))
RATE_LIMIT_MESSAGE = (
    "We have received many requests with this email address in the last hour. "
    "Please try again later."
)


@dataclass(frozen=True)
class Submitted:
    request: ContactRequest
    created: bool  # False: the same request was already made within 24 hours


def dedup_key(email: str, study_id: int, site_id: int) -> str:
    return lookup_key(f"{email.casefold()}|{study_id}|{site_id}")


def access_key(token: str) -> str:
    """How the token of a "see or withdraw my request" link is stored: hashed, so a copy
    of the database opens no request. The token is random, so no key is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def _mail_domain(settings: Settings) -> str:
    return urlsplit(settings.base_url).hostname or "localhost"


def site_label(site: Site | None) -> str:
    """How a site is named to patients and staff: facility, city (or the study team)."""
    if site is None:
        return STUDY_TEAM
    place = ", ".join(p for p in (site.city, site.state, site.country) if p)
    if site.facility and place:
        return f"{site.facility}, {place}"
    return site.facility or place or "the study site"


def _recent(session: Session, key: str, now: dt.datetime) -> ContactRequest | None:
    return session.scalar(
        select(ContactRequest)
        .where(ContactRequest.dedup_key == key, ContactRequest.created_at > now - REPEAT_WINDOW)
        .order_by(ContactRequest.created_at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class Prepared:
    """A contact request worked out before any transaction: routed, its emails written."""

    request: ContactRequest  # not yet added to a session
    emails: list[Letter]


def prepare_contact_request(
    *,
    study: Study,
    site: Site | None,
    submission: ContactSubmission,
    settings: Settings,
    now: dt.datetime,
    answers: tuple[Answered, ...] = (),
) -> Prepared:
    """Route the request and write both emails, touching no database: the caller's
    writing transaction (`store_contact_request`) then only has rows to insert.

    `answers`, the checklist answers the patient chose to send, go into the emails only:
    they are health data, and live nowhere else (the outbox encrypts them, and delivery,
    purge and erasure remove them with the email).
    """
    routing = route_request(study, site, fallback=settings.fallback_contact_email)
    token = secrets.token_urlsafe(32)
    request = ContactRequest(
        public_id=secrets.token_urlsafe(16),
        study_id=study.id,
        site_id=site.id if site else None,
        nct_id=study.nct_id,
        study_title=study.brief_title,
        site_name=site_label(site),
        first_name=submission.first_name,
        last_name=submission.last_name,
        email=submission.email,
        phone=submission.phone,
        language=submission.language,
        email_key=address_key(submission.email),
        consent_at=now,
        consent_version=CONSENT_VERSION,
        access_key=access_key(token),
        created_at=now,
        dedup_key=dedup_key(submission.email, study.id, site.id if site else 0),
        dedup_day=int(now.timestamp() // 86400),
        routing=routing.kind,
        routed_to=routing.address,
    )
    access_url = f"{settings.base_url.rstrip('/')}/requests/{token}"
    emails = compose_emails(
        request, study, site, routing, settings, access_url=access_url, answers=answers
    )
    return Prepared(request, emails)


def store_contact_request(
    session: Session, prepared: Prepared, *, settings: Settings, now: dt.datetime
) -> Submitted:
    """Store a prepared request and queue its emails, in the caller's writing transaction.

    A repeat of the same patient, study and site within 24 hours returns the earlier
    request and queues nothing, and does not count against the address's limit. Raises
    ratelimit.RateLimited when the address has reached it.
    """
    request = prepared.request
    # The address's limit row is locked first, so every request from one address, from
    # any process, passes the duplicate check and the count one at a time.
    held = ratelimit.hold(session, ADDRESS_LIMIT, request.email_key, now=now)
    earlier = _recent(session, request.dedup_key, now)
    if earlier is not None:
        return Submitted(earlier, created=False)
    ratelimit.spend(held, now=now)
    try:
        # Two identical submissions racing (a double click) meet at the unique key.
        with session.begin_nested():
            session.add(request)
    except IntegrityError:
        earlier = _recent(session, request.dedup_key, now)
        if earlier is None:
            raise
        return Submitted(earlier, created=False)
    _enqueue(session, prepared.emails, request=request, settings=settings, now=now)
    if request.routing == "flagged":
        log.warning(
            "contact request %s has no address to go to: flagged for an administrator", request.id
        )
    else:
        log.info("contact request %s stored, routing %s", request.id, request.routing)
    return Submitted(request, created=True)


def submit_contact_request(
    session: Session,
    *,
    study: Study,
    site: Site | None,
    submission: ContactSubmission,
    settings: Settings,
    now: dt.datetime,
) -> Submitted:
    """`prepare_contact_request`, then `store_contact_request` (see both).

    `site` is None for a study that lists no sites: the request then goes to its
    central contact.
    """
    prepared = prepare_contact_request(
        study=study, site=site, submission=submission, settings=settings, now=now
    )
    return store_contact_request(session, prepared, settings=settings, now=now)


def compose_emails(
    request: ContactRequest,
    study: Study,
    site: Site | None,
    routing: Routing,
    settings: Settings,
    *,
    access_url: str | None = None,
    site_email_only: bool = False,
    answers: tuple[Answered, ...] = (),
) -> list[Letter]:
    """The site's email (when an address is known) and the patient's copy.

    `access_url` is the patient's "see or withdraw my request" link, in their copy only.
    `site_email_only` is for a flagged request routed later: the patient has their copy.
    """
    domain = _mail_domain(settings)
    facts: dict[str, Any] = {
        "request": Patient.of(request),
        "study": StudyName(study.nct_id, study.brief_title),
        "has_site": site is not None,
        "site_name": request.site_name,
        "site_short": (site.facility or site.city if site else None) or STUDY_TEAM,
        "routing": routing,
        "language": language_name(request.language) if request.language else None,
        "study_url": f"{settings.base_url.rstrip('/')}/studies/{study.nct_id}",
        "site_url": settings.base_url,
        "contact": PublishedContact.of(
            study.contact_for(site),
            country=study.contact_country(site),
            sponsor=study.lead_sponsor,
        ),
        "retention_days": settings.retention_days,
        "answers": answers,
    }

    def compose(context: ContactEmail, to: str, reply_to: str | None) -> Letter:
        kind = context.template
        mail = render_email(context)
        message_id = f"<contact-{request.public_id}.{kind.removeprefix('contact_')}@{domain}>"
        return Letter(message_id, kind, (to,), reply_to, mail.subject, mail.text, mail.html)

    emails = []
    if routing.address:
        emails.append(compose(SiteEmail(**facts), routing.address, reply_to=request.email))
    if not site_email_only:
        copy = PatientCopy(**facts, access_url=access_url)
        emails.append(compose(copy, request.email, reply_to=routing.address))
    return emails


def _enqueue(
    session: Session,
    emails: list[Letter],
    *,
    request: ContactRequest,
    settings: Settings,
    now: dt.datetime,
) -> None:
    for email in emails:
        enqueue(session, email, sender=settings.mail_from, now=now, contact_request_id=request.id)


def queue_emails(
    session: Session,
    *,
    request: ContactRequest,
    study: Study,
    site: Site | None,
    routing: Routing,
    settings: Settings,
    now: dt.datetime,
    site_email_only: bool = False,
) -> None:
    """Write and queue the request's emails now (an administrator routing it again)."""
    emails = compose_emails(
        request, study, site, routing, settings, site_email_only=site_email_only
    )
    _enqueue(session, emails, request=request, settings=settings, now=now)
