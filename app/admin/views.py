"""The admin area: login, the email queue, contact requests and the audit log.

Every route but the login page depends on `require_admin`; every form carries a CSRF
token. Personal data of patients is shown here and nowhere else.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from email_validator import EmailNotValidError
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import and_, exists, func, select

from app import csrf
from app.admin.auth import (
    Admin,
    audit,
    authenticate,
    client_address,
    current_admin,
    end_session,
    normalize_email,
    start_session,
)
from app.admin.models import AdminUser, AuditEvent
from app.admin.pages import Id, Page, check_csrf, get_or_404, now, printable, render, safe_next
from app.admin.studies import take_over
from app.contact.forms import mail_address
from app.contact.models import ContactRequest
from app.contact.routing import route_request
from app.contact.service import queue_emails
from app.deps import DbSession
from app.outbox.models import FAILED, QUEUED, SENDING, SENT, OutboxMessage
from app.outbox.queue import retry_failed
from app.studies.models import Site, Study

router = APIRouter(prefix="/admin", include_in_schema=False)
PAGE_SIZE = 50
REQUEST_STATES = ("flagged", "failed", "pending", "sent")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, session: DbSession, next: str | None = None) -> Response:
    if current_admin(request, session) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "admin/login.html", {"next": safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/admin",
    csrf_token: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    if not csrf.check(request, csrf_token):
        context = {"next": safe_next(next), "error": "The form expired. Please log in again."}
        return render(request, "admin/login.html", context, status_code=403)
    when = now()
    result = authenticate(
        session, email=email, password=password, address=client_address(request), now=when
    )
    if result.user is None:
        # The actor is an account that exists, never free text a stranger typed.
        account = normalize_email(email)
        known = session.scalar(select(AdminUser.id).where(AdminUser.email == account))
        audit(
            session,
            actor=account if known else "unknown account",
            action="login_failed",
            now=when,
            address=client_address(request),
            throttled=result.throttled,
        )
        message = (
            "Too many failed attempts. Please wait 15 minutes and try again."
            if result.throttled
            else "That email address and password do not match an account."
        )
        context = {"next": safe_next(next), "error": message, "email": email}
        return render(
            request, "admin/login.html", context, status_code=429 if result.throttled else 401
        )
    audit(
        session, actor=result.user.email, action="login", now=when, address=client_address(request)
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, result.user)
    return response


@router.post("/logout")
def logout(
    request: Request, admin: Admin, session: DbSession, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(request, csrf_token)
    admin.session_nonce = secrets.token_urlsafe(24)  # ends this account's sessions everywhere
    audit(session, actor=admin.email, action="logout", now=now())
    response = RedirectResponse("/admin/login", status_code=303)
    end_session(response)
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
    }
    return render(request, "admin/dashboard.html", context)


def _state_filter(state: str) -> Any:
    emails = select(OutboxMessage.id).where(OutboxMessage.contact_request_id == ContactRequest.id)
    if state == "flagged":
        return ContactRequest.routing == "flagged"
    if state == "failed":
        return exists(emails.where(OutboxMessage.status == FAILED))
    if state == "pending":
        return exists(emails.where(OutboxMessage.status.in_([QUEUED, SENDING])))
    return and_(
        ContactRequest.routing != "flagged", ~exists(emails.where(OutboxMessage.status != SENT))
    )


def request_state(contact: ContactRequest, messages: list[OutboxMessage]) -> str:
    statuses = {m.status for m in messages}
    if FAILED in statuses:
        return "failed"
    if contact.flagged:
        return "flagged"
    if statuses - {SENT}:
        return "pending"
    return "sent"


@router.get("/requests", response_class=HTMLResponse)
def requests_list(
    request: Request,
    admin: Admin,
    session: DbSession,
    study: str = "",
    site: str = "",
    state: str = "",
    page: Page = 1,
) -> Response:
    query = select(ContactRequest)
    study, site = printable(study).strip(), printable(site).strip()
    if study:
        query = query.where(ContactRequest.nct_id == study.upper())
    if site.isdigit() and len(site) <= 9:
        query = query.where(ContactRequest.site_id == int(site))
    if state in REQUEST_STATES:
        query = query.where(_state_filter(state))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    rows = session.scalars(
        query.order_by(ContactRequest.created_at.desc(), ContactRequest.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    messages: dict[int, list[OutboxMessage]] = {}
    for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.contact_request_id.in_([r.id for r in rows]))
    ):
        messages.setdefault(message.contact_request_id or 0, []).append(message)
    filters = {"study": study, "site": site, "state": state}
    context = {
        "admin": admin,
        "rows": [(r, request_state(r, messages.get(r.id, []))) for r in rows],
        "filters": filters,
        "states": REQUEST_STATES,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "total": total,
        "query": urlencode({k: v for k, v in filters.items() if v}),
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
    context = {
        "admin": admin,
        "contact": contact,
        "messages": messages,
        "site": site,
        "state": request_state(contact, messages),
    }
    return render(request, "admin/request.html", context)


@router.post("/requests/{request_id}/reroute")
def reroute(
    request: Request,
    request_id: Id,
    admin: Admin,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Route a flagged request again (after its site's contact address was fixed)."""
    check_csrf(request, csrf_token)
    contact = get_or_404(session, ContactRequest, request_id)
    study = session.get(Study, contact.study_id) if contact.study_id else None
    site = session.get(Site, contact.site_id) if contact.site_id else None
    if contact.flagged and study is not None:
        settings = request.app.state.settings
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
            audit(
                session,
                actor=admin.email,
                action="request.reroute",
                now=now(),
                target=f"contact_request:{contact.id}",
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
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Set the email address of a site's first contact (adding a contact if it has none)."""
    check_csrf(request, csrf_token)
    site = get_or_404(session, Site, site_id)
    try:
        new_address = mail_address(email)
    except EmailNotValidError as error:
        raise HTTPException(
            status_code=422, detail=f"That email address is not valid: {error}"
        ) from None
    contacts = [dict(c) for c in site.contacts] or [{"name": "Study site contact"}]
    old = contacts[0].get("email")
    contacts[0]["email"] = new_address
    take_over(site)  # a fixed address must survive the next import
    site.contacts = contacts
    audit(
        session,
        actor=admin.email,
        action="site.contact_email",
        now=now(),
        target=f"site:{site.id}",
        old=old,
        new=new_address,
    )
    return RedirectResponse(safe_next(back), status_code=303)


@router.get("/outbox", response_class=HTMLResponse)
def outbox(
    request: Request, admin: Admin, session: DbSession, status: str = "", page: Page = 1
) -> Response:
    query = select(OutboxMessage)
    if status in (QUEUED, SENDING, SENT, FAILED):
        query = query.where(OutboxMessage.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    rows = session.scalars(
        query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    context = {
        "admin": admin,
        "rows": rows,
        "status": status,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "total": total,
        "statuses": (QUEUED, SENDING, SENT, FAILED),
    }
    return render(request, "admin/outbox.html", context)


@router.post("/outbox/{message_id}/retry")
def retry(
    request: Request,
    message_id: Id,
    admin: Admin,
    session: DbSession,
    back: Annotated[str, Form(max_length=500)] = "/admin/outbox",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(request, csrf_token)
    message = get_or_404(session, OutboxMessage, message_id)
    if message.status == FAILED:
        retry_failed(session, message, now=now())
        audit(
            session,
            actor=admin.email,
            action="outbox.retry",
            now=now(),
            target=f"outbox_message:{message.id}",
        )
    return RedirectResponse(safe_next(back), status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, admin: Admin, session: DbSession, page: Page = 1) -> Response:
    page = max(1, page)
    total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    rows = session.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    context = {"admin": admin, "rows": rows, "page": page, "pages": max(1, -(-total // PAGE_SIZE))}
    return render(request, "admin/audit.html", context)
