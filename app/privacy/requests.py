"""The patient's own request: "see or withdraw my request", from the link in their copy.

The link's token is random and stored only as a hash (app/contact/service.py: access_key),
so the link is the only way in and a copy of the database opens nothing. The page shows
what was sent and to whom and offers a copy of what is stored; withdrawing deletes the
request and its emails and, when the site's email had gone out, asks the site to delete
the details too (app/privacy/erasure.py). The link works until the request is deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import csrf
from app.contact.consent import wording
from app.contact.models import ContactRequest
from app.contact.service import access_key
from app.db import empty_write_ahead_log, write_transaction
from app.deps import DbSession
from app.languages import language_name
from app.outbox.models import OutboxMessage
from app.privacy.erasure import SITE_EMAIL, Removed, forget_request
from app.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("trialfinder.privacy")
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
CSRF_MESSAGE = "For your security, please press the button once more."


def _find(session: Session, token: str, *, for_update: bool = False) -> ContactRequest | None:
    if not TOKEN.fullmatch(token):
        return None
    query = select(ContactRequest).where(ContactRequest.access_key == access_key(token))
    return session.scalar(query.with_for_update() if for_update else query)


def _gone(request: Request, status_code: int = 404) -> Response:
    days = request.app.state.settings.retention_days
    return render(request, "privacy/request_gone.html", {"days": days}, status_code=status_code)


def _site_email(session: Session, contact: ContactRequest) -> OutboxMessage | None:
    return session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.contact_request_id == contact.id, OutboxMessage.kind == SITE_EMAIL
        )
    )


def _page(
    request: Request,
    session: Session,
    contact: ContactRequest,
    token: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    csrf_token, nonce = csrf.issue_token(request)
    context = {
        "contact": contact,
        "token": token,
        "site_email": _site_email(session, contact),
        "consent_wording": wording(contact.consent_version),
        "language": language_name(contact.language) if contact.language else None,
        "purge_on": contact.created_at
        + dt.timedelta(days=request.app.state.settings.retention_days),
        "csrf_token": csrf_token,
        "error": error,
    }
    response = render(request, "privacy/request.html", context, status_code=status_code)
    csrf.set_cookie(request, response, nonce)
    return response


@router.get("/requests/withdrawn", response_class=HTMLResponse, name="request_withdrawn")
def request_withdrawn(request: Request) -> Response:
    """After withdrawing (declared before /requests/{token}, which would take the path)."""
    told = request.query_params.get("told") == "1"
    return render(request, "privacy/withdrawn.html", {"told": told})


@router.get("/requests/{token}", response_class=HTMLResponse, name="my_request")
def my_request(request: Request, token: str, session: DbSession) -> Response:
    contact = _find(session, token)
    if contact is None:
        return _gone(request)
    return _page(request, session, contact, token)


@router.get("/requests/{token}/copy", name="my_request_copy")
def my_request_copy(request: Request, token: str, session: DbSession) -> Response:
    """Everything stored about the request, as a JSON file to keep."""
    contact = _find(session, token)
    if contact is None:
        return _gone(request)
    site_email = _site_email(session, contact)
    stored = {
        "reference": contact.public_id,
        "received_at": contact.created_at.isoformat(),
        "study": {"nct_id": contact.nct_id, "title": contact.study_title},
        "sent_to": {"team": contact.team, "email": contact.routed_to, "routing": contact.routing},
        "you": {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "phone": contact.phone,
            "preferred_language": language_name(contact.language) if contact.language else None,
        },
        "consent": {
            "given_at": contact.consent_at.isoformat(),
            "wording_version": contact.consent_version,
            "wording": wording(contact.consent_version),
        },
        "email_to_the_team": None
        if site_email is None
        else {
            "status": site_email.status,
            "sent_at": site_email.sent_at.isoformat() if site_email.sent_at else None,
            "message_id": site_email.message_id,
        },
        "deleted_after_days": request.app.state.settings.retention_days,
    }
    body = json.dumps(stored, indent=2, ensure_ascii=False) + "\n"
    filename = f"trialfinder-request-{contact.public_id}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/requests/{token}/withdraw", response_class=HTMLResponse, name="withdraw_request")
@csrf.shows_form_again
def withdraw_request(request: Request, token: str, session: DbSession) -> Response:
    contact = _find(session, token)
    if csrf.failed(request):
        if contact is None:
            return _gone(request, status_code=403)
        return _page(request, session, contact, token, error=CSRF_MESSAGE, status_code=403)
    if contact is None:
        return _gone(request)
    settings, now = request.app.state.settings, dt.datetime.now(dt.UTC)
    removed = Removed()
    with write_transaction(session):
        # Again, locked, inside the write: of two clicks, the second finds nothing.
        contact = _find(session, token, for_update=True)
        if contact is None:
            return _gone(request)
        forget_request(session, contact, settings=settings, now=now, removed=removed)
    empty_write_ahead_log(request.app.state.sessionmaker)
    log.info("a patient withdrew a contact request: %s", removed)
    told = "1" if removed.notes_to_sites else "0"
    return RedirectResponse(f"/requests/withdrawn?told={told}", status_code=303)
