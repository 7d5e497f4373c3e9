"""The admin area: login, the email queue, contact requests and the audit log.

Every route but the login page depends on `require_admin`; every form carries a CSRF
token. Personal data of patients is shown here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Literal

from email_validator import EmailNotValidError
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from app import csrf, ratelimit
from app.addresses import address_key, mail_address
from app.admin.auth import (
    Admin,
    audit,
    check_login,
    current_admin,
    end_session,
    password_matches,
    record_login,
    start_session,
)
from app.admin.models import AdminUser, AuditEvent
from app.admin.pages import (
    Id,
    Page,
    get_or_404,
    now,
    paginate,
    printable,
    record,
    render,
    safe_next,
)
from app.admin.studies import take_over
from app.alerts.service import counts as alert_counts
from app.contact.models import ContactCount, ContactRequest
from app.contact.routing import route_request
from app.contact.service import queue_emails
from app.contact.states import RequestState, request_state
from app.db import empty_write_ahead_log, write_transaction
from app.deps import DbSession
from app.jobs import DailyJobRun
from app.outbox.models import FAILED, QUEUED, RESOLVED, SENDING, SENT, OutboxMessage
from app.outbox.queue import resolve_failed, retry_failed
from app.params import row_id
from app.privacy.erasure import erase_person
from app.studies.models import Site, Study

router = APIRouter(prefix="/admin", include_in_schema=False)
LOGIN_EXPIRED = "The form expired. Please log in again."
STATES = frozenset(s.value for s in RequestState)
STATUSES = (QUEUED, SENDING, SENT, FAILED, RESOLVED)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: DbSession, next: str | None = None) -> Response:
    if current_admin(request, session) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "admin/login.html", {"next": safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
@csrf.shows_form_again
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/admin",
) -> Response:
    if csrf.failed(request):
        context = {"next": safe_next(next), "error": LOGIN_EXPIRED, "email": email}
        return render(request, "admin/login.html", context, status_code=403)
    when, address = now(), ratelimit.client_address(request)
    with write_transaction(session):
        check = check_login(session, email=email, address=address, now=when)
    ok = password_matches(check, password)
    with write_transaction(session):
        user = record_login(session, check, ok=ok, password=password, address=address, now=when)
        if user is not None:
            audit(session, actor=user.email, action="login", now=when, address=address)
        else:
            # The actor is an account that exists, never free text a stranger typed.
            audit(
                session,
                actor=check.account if check.known else "unknown account",
                action="login_failed",
                now=when,
                address=address,
                throttled=check.throttled,
            )
    if user is None:
        message = (
            "Too many failed attempts. Please wait 15 minutes and try again."
            if check.throttled
            else "That email address and password do not match an account."
        )
        context = {"next": safe_next(next), "error": message, "email": email}
        return render(
            request, "admin/login.html", context, status_code=429 if check.throttled else 401
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, user)
    return response


@router.post("/logout")
def logout(request: Request, admin: Admin, session: DbSession) -> Response:
    with write_transaction(session):
        account = get_or_404(session, AdminUser, admin.id, for_update=True)
        account.session_nonce = secrets.token_urlsafe(24)  # ends its sessions everywhere
        audit(session, actor=account.email, action="logout", now=now())
    response = RedirectResponse("/admin/login", status_code=303)
    end_session(request, response)
    return response


@router.get("", response_class=HTMLResponse)
def dashboard(request: Request, admin: Admin, session: DbSession) -> Response:
    by_status = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    context = {
        "admin": admin,
        "studies": session.scalar(select(func.count()).select_from(Study)),
        "requests": session.scalar(select(func.count()).select_from(ContactRequest)),
        "flagged": session.scalar(
            select(func.count())
            .select_from(ContactRequest)
            .where(ContactRequest.routing == "flagged")
        ),
        "outbox": {s: by_status.get(s, 0) for s in (QUEUED, SENDING, SENT, FAILED)},
        # Requests past retention live on only as anonymous counts.
        "purged": session.scalar(select(func.coalesce(func.sum(ContactCount.requests), 0))),
        "retention_days": request.app.state.settings.retention_days,
        "last_purge": session.get(DailyJobRun, "purge"),
        # Alerts are personal: administrators see how many, never whose or what for.
        "alerts": alert_counts(session, now=dt.datetime.now(dt.UTC)),
        "last_alerts": session.get(DailyJobRun, "send-alerts"),
    }
    return render(request, "admin/dashboard.html", context)


@router.get("/requests", response_class=HTMLResponse)
def requests_list(
    request: Request,
    admin: Admin,
    session: DbSession,
    study: str = "",
    site: str = "",
    state: str = "",
    email: str = "",
    page: Page = 1,
) -> Response:
    status = request_state().label("state")
    query = select(ContactRequest, status)
    study, site = printable(study).strip(), printable(site).strip()
    email = printable(email).strip()[:254]
    if email:
        # Addresses are stored encrypted: found by their keyed hash, never compared plain.
        query = query.where(ContactRequest.email_key == address_key(email))
    if study:
        query = query.where(ContactRequest.nct_id == study.upper())
    if (site_id := row_id(site)) is not None:
        query = query.where(ContactRequest.site_id == site_id)
    if state in STATES:
        query = query.where(request_state() == state)
    newest_first = [ContactRequest.created_at.desc(), ContactRequest.id.desc()]
    paged = paginate(session, query, page=page, order_by=newest_first)
    filters = {
        "study": study,
        "site": site,
        "state": state if state in STATES else "",
        "email": email,
    }
    context = {
        "admin": admin,
        "rows": paged.rows,
        "filters": {k: v for k, v in filters.items() if v},
        "states": [s.value for s in RequestState],
        "page": paged.page,
        "pages": paged.pages,
        "total": paged.total,
    }
    return render(request, "admin/requests.html", context)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_detail(request: Request, request_id: Id, admin: Admin, session: DbSession) -> Response:
    contact = get_or_404(session, ContactRequest, request_id)
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.contact_request_id == contact.id)
            .order_by(OutboxMessage.id)
        )
    )
    site = session.get(Site, contact.site_id) if contact.site_id else None
    state = session.scalar(select(request_state()).where(ContactRequest.id == contact.id))
    with write_transaction(session):
        # Who saw a patient's details, and when: opening a request is on the record.
        # Named by the public reference: ids can be used again after a deletion (SQLite).
        record(session, admin, "request.open", f"contact_request:{contact.public_id}")
    context = {
        "admin": admin,
        "contact": contact,
        "messages": messages,
        "site": site,
        "state": state,
    }
    return render(request, "admin/request.html", context)


@router.post("/requests/{request_id}/erase", response_class=HTMLResponse)
def erase(request: Request, request_id: Id, admin: Admin, session: DbSession) -> Response:
    """Erase everything about the person who made this request (all their requests)."""
    settings = request.app.state.settings
    with write_transaction(session):
        contact = get_or_404(session, ContactRequest, request_id, for_update=True)
        removed = erase_person(session, contact.email, settings=settings, now=now())
        # That an erasure happened, and what it removed; never whose.
        record(session, admin, "privacy.erase", None, removed=removed.as_dict())
    empty_write_ahead_log(request.app.state.sessionmaker)
    return render(request, "admin/erased.html", {"admin": admin, "removed": removed})


@router.post("/requests/{request_id}/reroute")
def reroute(request: Request, request_id: Id, admin: Admin, session: DbSession) -> Response:
    """Route a flagged request again (after its site's contact address was fixed)."""
    settings = request.app.state.settings
    with write_transaction(session):
        contact = get_or_404(session, ContactRequest, request_id, for_update=True)
        study = session.get(Study, contact.study_id) if contact.study_id else None
        site = session.get(Site, contact.site_id) if contact.site_id else None
        if contact.flagged and study is not None:
            routing = route_request(study, site, fallback=settings.fallback_contact_email)
            if routing.address:
                contact.routing, contact.routed_to = routing.kind, routing.address
                queue_emails(
                    session,
                    request=contact,
                    study=study,
                    site=site,
                    routing=routing,
                    settings=settings,
                    now=now(),
                    site_email_only=True,
                )
                record(
                    session,
                    admin,
                    "request.reroute",
                    f"contact_request:{contact.public_id}",
                    routing=routing.kind,
                )
    return RedirectResponse(f"/admin/requests/{request_id}", status_code=303)


@router.post("/sites/{site_id}/contact-email")
def fix_site_email(
    request: Request,
    site_id: Id,
    admin: Admin,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)] = "",
    back: Annotated[str, Form(max_length=500)] = "/admin",
) -> Response:
    """Set the email address of a site's first contact (adding a contact if it has none)."""
    try:
        new_address = mail_address(email)
    except EmailNotValidError as error:
        raise HTTPException(
            status_code=422, detail=f"That email address is not valid: {error}"
        ) from None
    with write_transaction(session):
        site = get_or_404(session, Site, site_id, for_update=True)
        contacts = [dict(c) for c in site.contacts] or [{"name": "Study site contact"}]
        old = contacts[0].get("email")
        contacts[0]["email"] = new_address
        take_over(site)  # a fixed address must survive the next import
        site.contacts = contacts
        record(session, admin, "site.contact_email", f"site:{site.id}", old=old, new=new_address)
    return RedirectResponse(safe_next(back), status_code=303)


@router.get("/outbox", response_class=HTMLResponse)
def outbox(
    request: Request, admin: Admin, session: DbSession, status: str = "", page: Page = 1
) -> Response:
    query = select(OutboxMessage)
    if status in STATUSES:
        query = query.where(OutboxMessage.status == status)
    else:
        status = ""
    newest_first = [OutboxMessage.created_at.desc(), OutboxMessage.id.desc()]
    paged = paginate(session, query, page=page, order_by=newest_first)
    context = {
        "admin": admin,
        "rows": paged.rows,
        "status": status,
        "page": paged.page,
        "pages": paged.pages,
        "total": paged.total,
        "statuses": STATUSES,
    }
    return render(request, "admin/outbox.html", context)


# What an administrator may do with a failed message: send it again (a fresh attempt
# budget), or close it unsent (its content and addresses are deleted).
FAILED_MESSAGE_ACTIONS = {"retry": retry_failed, "resolve": resolve_failed}


@router.post("/outbox/{message_id}/{action}")
def failed_message_action(
    request: Request,
    message_id: Id,
    action: Literal["retry", "resolve"],
    admin: Admin,
    session: DbSession,
    back: Annotated[str, Form(max_length=500)] = "/admin/outbox",
) -> Response:
    with write_transaction(session):
        message = get_or_404(session, OutboxMessage, message_id, for_update=True)
        if message.status == FAILED:
            FAILED_MESSAGE_ACTIONS[action](session, message, now=now())
            record(session, admin, f"outbox.{action}", f"outbox_message:{message.id}")
    return RedirectResponse(safe_next(back), status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, admin: Admin, session: DbSession, page: Page = 1) -> Response:
    paged = paginate(
        session,
        select(AuditEvent),
        page=page,
        order_by=[AuditEvent.at.desc(), AuditEvent.id.desc()],
    )
    context = {"admin": admin, "rows": paged.rows, "page": paged.page, "pages": paged.pages}
    return render(request, "admin/audit.html", context)
