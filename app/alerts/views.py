"""Patient Notification Services pages: sign up, confirm, unsubscribe, manage."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import csrf, headers, ratelimit
from app.alerts.consent import CONSENT_VERSION, PAGES, wording
from app.alerts.forms import FIELDS, validate_alert_form
from app.alerts.models import Alert
from app.alerts.searches import AlertSearch
from app.alerts.service import (
    RATE_LIMIT_MESSAGE,
    LinkProblem,
    alert_to_confirm,
    alerts_to_manage,
    confirm,
    delete_alerts,
    request_manage_link,
    sign_up,
    to_unsubscribe,
    unsubscribe,
)
from app.contact.forms import HONEYPOT, Problem, clean_email
from app.db import DATABASE_UNAVAILABLE, write_transaction
from app.deps import DbSession
from app.errors import RETRY_AFTER_SECONDS
from app.studies.rules import DEFAULT_STATUSES
from app.studies.views import RADIUS_CHOICES
from app.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("trialfinder.alerts")
UNAVAILABLE_MESSAGE = (
    "We could not save your alert just now: our database did not answer. Nothing was "
    "saved. Please press the button again in a minute."
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _form_page(
    request: Request,
    values: dict[str, str],
    statuses: list[str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    retry_after: int | None = None,
) -> Response:
    token, nonce = csrf.issue_token(request)
    page = request.query_params.get("from") or values.get("from", "")
    context = {
        "form": values,
        "statuses": statuses or list(DEFAULT_STATUSES),
        "errors": errors or {},
        "radii": RADIUS_CHOICES,
        "csrf_token": token,
        "honeypot": HONEYPOT,
        "consent_wording": wording(CONSENT_VERSION),
        "from_page": page if page in PAGES else "alerts",
    }
    response = render(request, "alerts/signup.html", context, status_code=status_code)
    csrf.set_cookie(request, response, nonce)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return headers.private(response)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_form(request: Request) -> Response:
    """The sign-up form, filled in from the query string (results and confirmation pages)."""
    values = {k: request.query_params.get(k, "")[:200] for k in FIELDS if k != "consent"}
    return _form_page(request, values, request.query_params.getlist("status"))


async def _form(request: Request) -> tuple[dict[str, str], list[str]]:
    """The posted text fields, and every `status` sent (read here, so routes run in threads)."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    statuses = [v for v in form.getlist("status") if isinstance(v, str)]
    return fields, statuses


Posted = Annotated[tuple[dict[str, str], list[str]], Depends(_form)]


@router.post("/alerts", response_class=HTMLResponse)
@csrf.shows_form_again
def submit_alert(
    request: Request,
    posted: Posted,
    session: DbSession,
) -> Response:
    data, statuses = posted
    settings = request.app.state.settings
    result = validate_alert_form(
        data,
        statuses,
        check_deliverability=settings.checks_email_domains and not csrf.failed(request),
    )
    values = {**result.values, "from": data.get("from", "")}
    if csrf.failed(request):
        return _form_page(
            request, values, statuses, {"form": csrf.FORM_AGAIN_MESSAGE, **result.errors}, 403
        )
    if result.signup is None:
        return _form_page(request, values, statuses, result.errors, 422)
    try:
        with write_transaction(session):
            sign_up(session, result.signup, settings=settings, now=_now())
    except ratelimit.RateLimited as limited:
        errors = {"form": RATE_LIMIT_MESSAGE}
        return _form_page(request, values, statuses, errors, 429, limited.retry_after)
    except DATABASE_UNAVAILABLE as exc:
        log.warning("alert not stored: database unavailable (%s)", type(exc).__name__)
        errors = {"form": UNAVAILABLE_MESSAGE}
        return _form_page(request, values, statuses, errors, 503, RETRY_AFTER_SECONDS)
    # The same page whatever happened: it reveals nothing about the address.
    return RedirectResponse(str(request.url_for("alerts_check_email")), status_code=303)


@router.get("/alerts/check-email", response_class=HTMLResponse)
def alerts_check_email(request: Request) -> Response:
    return headers.private(render(request, "alerts/check_email.html", {"kind": "confirm"}))


def _link_problem(request: Request, problem: LinkProblem, what: str) -> Response:
    status = 410 if problem.gone else 404
    context = {"gone": problem.gone, "what": what}
    return headers.private(render(request, "alerts/link_problem.html", context, status_code=status))


def _with_csrf(
    request: Request, name: str, context: dict[str, object], status_code: int = 200
) -> Response:
    token, nonce = csrf.issue_token(request)
    response = render(request, name, {**context, "csrf_token": token}, status_code)
    csrf.set_cookie(request, response, nonce)
    return headers.private(response)


@router.get("/alerts/confirm/{token}", response_class=HTMLResponse)
def alert_confirm_page(request: Request, token: str, session: DbSession) -> Response:
    """A button, not the confirmation: mail scanners that open links subscribe nobody."""
    try:
        alert = alert_to_confirm(session, token, now=_now())
    except LinkProblem as problem:
        return _link_problem(request, problem, "confirm")
    summary = AlertSearch.from_dict(alert.search).summary()
    context = {"summary": summary, "confirmed": alert.confirmed_at is not None}
    return _with_csrf(request, "alerts/confirm.html", context)


@router.post("/alerts/confirm/{token}", response_class=HTMLResponse)
def alert_confirm(request: Request, token: str, session: DbSession) -> Response:
    try:
        with write_transaction(session):
            alert = confirm(session, token, now=_now())
            summary = AlertSearch.from_dict(alert.search).summary()
            manage_token = alert.manage_token
    except LinkProblem as problem:
        return _link_problem(request, problem, "confirm")
    context = {"summary": summary, "manage_token": manage_token}
    return headers.private(render(request, "alerts/confirmed.html", context))


@router.get("/alerts/unsubscribe/{token}", response_class=HTMLResponse)
def alert_unsubscribe_page(request: Request, token: str, session: DbSession) -> Response:
    try:
        found = to_unsubscribe(session, token, now=_now())
    except LinkProblem as problem:
        return _link_problem(request, problem, "unsubscribe")
    summaries = [AlertSearch.from_dict(a.search).summary() for a in found.alerts]
    context = {"summaries": summaries, "token": token}
    return headers.private(render(request, "alerts/unsubscribe.html", context))


@router.post("/alerts/unsubscribe/{token}", response_class=HTMLResponse)
def alert_unsubscribe_post(request: Request, token: str, session: DbSession) -> Response:
    """RFC 8058 one-click: no session, no CSRF token (csrf.EXEMPT says why)."""
    try:
        with write_transaction(session):
            removed = unsubscribe(session, token, now=_now())
    except LinkProblem as problem:
        return _link_problem(request, problem, "unsubscribe")
    if removed == 0:
        return _link_problem(request, LinkProblem(gone=False), "unsubscribe")
    return headers.private(render(request, "alerts/unsubscribed.html", {"removed": removed}))


@router.get("/alerts/manage", response_class=HTMLResponse)
def alerts_manage_request(request: Request) -> Response:
    return _with_csrf(request, "alerts/manage_request.html", {"errors": {}, "email": ""})


@router.post("/alerts/manage", response_class=HTMLResponse)
@csrf.shows_form_again
def alerts_manage_send(
    request: Request,
    posted: Posted,
    session: DbSession,
) -> Response:
    data, _ = posted
    typed = (data.get("email") or "")[:254].strip()
    errors: dict[str, str] = {}
    cleaned = clean_email(typed, False)
    if csrf.failed(request):
        errors["form"] = csrf.FORM_AGAIN_MESSAGE
    if isinstance(cleaned, Problem):
        errors["email"] = cleaned.message
    if (data.get(HONEYPOT) or "").strip():
        errors["form"] = "We have not sent anything: a hidden box of this form was filled in."
    if errors or isinstance(cleaned, Problem):
        code = 403 if csrf.failed(request) else 422
        context: dict[str, object] = {"errors": errors, "email": typed}
        return _with_csrf(request, "alerts/manage_request.html", context, code)
    try:
        with write_transaction(session):
            request_manage_link(session, cleaned, settings=request.app.state.settings, now=_now())
    except ratelimit.RateLimited:
        pass  # the same answer: saying "too many" would tell that the address has alerts
    return headers.private(render(request, "alerts/check_email.html", {"kind": "manage"}))


@router.get("/alerts/manage/{token}", response_class=HTMLResponse)
def alerts_manage(request: Request, token: str, session: DbSession) -> Response:
    try:
        alerts = alerts_to_manage(session, token, now=_now())
    except LinkProblem as problem:
        return _link_problem(request, problem, "manage")
    return _manage_page(request, token, alerts, deleted=None)


def _manage_page(
    request: Request, token: str, alerts: list[Alert], deleted: int | None
) -> Response:
    items = [
        {
            "id": a.public_id,
            "summary": AlertSearch.from_dict(a.search).summary(),
            "search_query": AlertSearch.from_dict(a.search).query(),
            "status": a.status,
            "confirmed_at": a.confirmed_at,
        }
        for a in alerts
    ]
    return _with_csrf(
        request, "alerts/manage.html", {"alerts": items, "token": token, "deleted": deleted}
    )


@router.post("/alerts/manage/{token}", response_class=HTMLResponse)
def alerts_manage_delete(
    request: Request,
    token: str,
    posted: Posted,
    session: DbSession,
) -> Response:
    data, _ = posted
    which = (data.get("alert") or "")[:64]
    now = _now()
    try:
        with write_transaction(session):
            deleted = delete_alerts(session, token, which, now=now)
    except LinkProblem as problem:
        return _link_problem(request, problem, "manage")
    try:
        left = alerts_to_manage(session, token, now=now)
    except LinkProblem:
        left = []  # the link was one of the deleted alerts' own
    return _manage_page(request, token, left, deleted=deleted)


@router.get("/notifications", response_class=HTMLResponse)
def notifications(request: Request) -> Response:
    """The old address of the sign-up page."""
    query = request.url.query
    target = str(request.url_for("alerts_form")) + (f"?{query}" if query else "")
    return RedirectResponse(target, status_code=308)
