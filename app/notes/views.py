"""Notes and sharing pages: the checklist, the page after sharing, opening and revoking.

Until the patient shares, their notes live in the browser only: the notes page keeps
nothing on the server (`action=review` only shows the summary again). Links carry random
tokens, so these pages are never cached, never sent as a Referer, and their paths are
kept out of the access log (app/logs.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from app import csrf, headers, ratelimit
from app.contact.forms import Problem, clean_email
from app.crypto import Busy, WrongPasscode
from app.db import DATABASE_UNAVAILABLE, release, write_transaction
from app.deps import DbSession
from app.errors import RETRY_AFTER_SECONDS
from app.notes import passcodes
from app.notes.models import Share
from app.notes.service import (
    DEFAULT_DAYS,
    LIMITS_TEXT,
    LOCKED_FOR,
    MAX_DAYS,
    MIN_DAYS,
    Locked,
    WrongSecret,
    bundle,
    cancel_try,
    check_locked,
    count_open,
    ended,
    find,
    open_notes,
    over_limit,
    owns,
    prepare_share,
    reserve_try,
    revoke,
    settle_try,
    store_share,
    wipe_expired,
)
from app.studies.checklist import (
    ANSWERS,
    SECTION_TITLES,
    Checklist,
    Notes,
    checklist,
    read_notes,
    summarise,
)
from app.studies.models import Study
from app.studies.views import age_range_label, load_study, sex_label, study_or_404
from app.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("trialfinder.notes")
RATE_LIMIT_MESSAGE = (
    "You have shared or emailed many links in a short time. Nothing was shared. "
    "Please try again later. " + LIMITS_TEXT
)
UNAVAILABLE_MESSAGE = (
    "We could not share your notes just now: our database did not answer. Nothing was "
    "shared. Please press the button again in a minute."
)
WRONG_PASSCODE = (
    "That passcode does not open these notes. Check it with the person who shared them."
)
LOCKED_MESSAGE = (
    "Too many wrong passcodes were tried for this link. It is paused for 15 minutes: "
    "please try again later with the passcode from the person who shared it."
)
BUSY_MESSAGE = (
    "Many people are opening or sharing notes right now. Nothing was lost: please press the "
    "button again in a few seconds."
)
BUSY_RETRY_SECONDS = 5
CLIENT_LIMIT_MESSAGE = (
    "Many passcodes were tried from your connection in the last 15 minutes. Please try again later."
)
DAYS_MESSAGE = f"Choose how many days the link works: a whole number from {MIN_DAYS} to {MAX_DAYS}."


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


Posted = Annotated[dict[str, str], Depends(_form_fields)]


def _notes_page(
    request: Request,
    study: Study,
    sheet: Checklist,
    *,
    notes: Notes | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    reviewed: bool = False,
    status_code: int = 200,
    retry_after: int | None = None,
) -> Response:
    notes = notes or Notes()
    values = values or {}
    token, nonce = csrf.issue_token(request)
    context = {
        "study": study,
        "sheet": sheet,
        "titles": SECTION_TITLES,
        "answers": ANSWERS,
        "notes": notes,
        "summary": summarise(sheet, notes) if reviewed else None,
        "posted": reviewed,
        "errors": errors or {},
        "passcode": values.get("passcode") or passcodes.generate(),
        "expires_days": values.get("expires_days") or str(DEFAULT_DAYS),
        "email_to": values.get("email_to", ""),
        "min_days": MIN_DAYS,
        "max_days": MAX_DAYS,
        "min_passcode": passcodes.MIN_LENGTH,
        "limits": LIMITS_TEXT,
        "csrf_token": token,
    }
    response = render(request, "notes/notes.html", context, status_code=status_code)
    csrf.set_cookie(request, response, nonce)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return headers.private(response)


@router.get("/studies/{nct_id}/notes", response_class=HTMLResponse)
def notes_page(request: Request, nct_id: str, session: DbSession) -> Response:
    study = study_or_404(session, nct_id)
    return _notes_page(request, study, checklist(study))


def _days(value: str) -> int | None:
    value = value.strip() or str(DEFAULT_DAYS)
    if not value.isascii() or not value.isdigit() or len(value) > 3:
        return None
    days = int(value)
    return days if MIN_DAYS <= days <= MAX_DAYS else None


@router.post("/studies/{nct_id}/notes", response_class=HTMLResponse)
@csrf.shows_form_again
def notes_submit(request: Request, nct_id: str, data: Posted, session: DbSession) -> Response:
    """`action=review` shows the summary again and stores nothing; `action=share` shares."""
    study = study_or_404(session, nct_id)
    sheet = checklist(study)
    release(session)  # nothing held while the address is checked (DNS) or Argon2 runs
    notes, errors = read_notes(data, sheet)
    values = {k: data.get(k, "")[:300] for k in ("passcode", "expires_days", "email_to")}

    def again(problems: dict[str, str], status: int, retry: int | None = None) -> Response:
        return _notes_page(
            request, study, sheet, notes=notes, values=values, errors=problems,
            reviewed=True, status_code=status, retry_after=retry,
        )  # fmt: skip

    if csrf.failed(request):
        return again({"form": csrf.FORM_AGAIN_MESSAGE}, 403)
    if data.get("action") != "share":
        return again(errors, 200)
    passcode = data.get("passcode", "")
    problem = passcodes.problem(passcode)
    if problem:
        errors["passcode"] = problem
    days = _days(data.get("expires_days", ""))
    if days is None:
        errors["expires_days"] = DAYS_MESSAGE
    email_to: str | None = None
    if data.get("email_to", "").strip():
        settings = request.app.state.settings
        cleaned = clean_email(data["email_to"], settings.checks_email_domains)
        if isinstance(cleaned, Problem):
            errors["email_to"] = cleaned.message
        else:
            email_to = cleaned
    if notes.is_empty:
        errors["form"] = "There is nothing to share yet: answer a line or write a note first."
    if errors or days is None:
        return again(errors, 422)
    settings, now, client = request.app.state.settings, _now(), ratelimit.client_address(request)
    wait = over_limit(session, client=client, email_to=email_to, now=now)  # a short read
    release(session)
    if wait is not None:
        return again({"form": RATE_LIMIT_MESSAGE}, 429, wait)
    try:
        prepared = prepare_share(
            bundle(study, sheet, notes, now=now),
            passcode=passcodes.normalise(passcode),
            days=days,
            email_to=email_to,
            settings=settings,
            now=now,
        )
    except Busy:
        return again({"form": BUSY_MESSAGE}, 503, BUSY_RETRY_SECONDS)
    try:
        with write_transaction(session):
            store_share(session, prepared, client=client, settings=settings, now=now)
    except ratelimit.RateLimited as limited:
        return again({"form": RATE_LIMIT_MESSAGE}, 429, limited.retry_after)
    except DATABASE_UNAVAILABLE as exc:
        log.warning("share not stored: database unavailable (%s)", type(exc).__name__)
        return again({"form": UNAVAILABLE_MESSAGE}, 503, RETRY_AFTER_SECONDS)
    log.info("notes shared for %s days%s", days, ", link emailed" if email_to else "")
    url = request.url_for("shared_manage", token=prepared.token, secret=prepared.secret)
    return RedirectResponse(str(url), status_code=303)


def _gone_page(request: Request, why: str) -> Response:
    return headers.private(render(request, "notes/gone.html", {"why": why}, status_code=410))


def _not_found(request: Request) -> Response:
    return headers.private(render(request, "errors/404.html", {}, status_code=404))


@router.get("/shared/{token}/manage/{secret}", response_class=HTMLResponse)
def shared_manage(request: Request, token: str, secret: str, session: DbSession) -> Response:
    """The page after sharing: the link, and the button that withdraws it."""
    share = find(session, token)
    if share is None or not owns(share, secret):
        return _not_found(request)
    token_csrf, nonce = csrf.issue_token(request)
    context = {
        "share": share,
        "ended": ended(share, _now()),
        "paused_until": share.locked_until
        if share.locked_until and share.locked_until > _now()
        else None,
        "share_url": str(request.url_for("shared_open", token=token)),
        "token": token,
        "secret": secret,
        "csrf_token": token_csrf,
    }
    response = render(request, "notes/manage.html", context)
    csrf.set_cookie(request, response, nonce)
    return headers.private(response)


@router.post("/shared/{token}/revoke", response_class=HTMLResponse)
def shared_revoke(request: Request, token: str, data: Posted, session: DbSession) -> Response:
    secret = data.get("secret", "")
    changed, wrong = False, False  # pages are rendered after the write lock is let go
    with write_transaction(session):
        share = find(session, token, lock=True)
        if share is not None:
            try:
                changed = revoke(share, secret, now=_now())
            except WrongSecret:
                wrong = True
    if share is None:
        return _not_found(request)
    if wrong:
        return headers.private(render(request, "notes/wrong_secret.html", {}, status_code=403))
    if changed:
        log.info("a share link was revoked")
    url = request.url_for("shared_manage", token=token, secret=secret)
    return RedirectResponse(str(url), status_code=303)


def _open_page(
    request: Request,
    *,
    message: str | None = None,
    status_code: int = 200,
    retry_after: int | None = None,
    tries_left: int | None = None,
    paused: bool = False,
) -> Response:
    token, nonce = csrf.issue_token(request)
    context = {
        "message": message, "csrf_token": token, "tries_left": tries_left, "paused": paused,
    }  # fmt: skip
    response = render(request, "notes/open.html", context, status_code=status_code)
    csrf.set_cookie(request, response, nonce)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return headers.private(response)


def _locked_page(request: Request, locked: Locked) -> Response:
    return _open_page(
        request, message=LOCKED_MESSAGE, status_code=429, retry_after=locked.retry_after,
        paused=True,
    )  # fmt: skip


@router.get("/shared/{token}", response_class=HTMLResponse)
def shared_open(request: Request, token: str, session: DbSession) -> Response:
    """Ask for the passcode (or say the link ended, or is paused after wrong passcodes)."""
    return _link_state(request, session, token) or _open_page(request)


def _link_state(request: Request, session: Session, token: str) -> Response | None:
    """The page for a link that cannot be tried now (unknown, ended, paused); None if it can.

    An expired link whose notes the daily purge has not wiped yet is wiped here, so that
    "the notes were deleted" is true when the page says it.
    """
    share = find(session, token)
    if share is None:
        return _not_found(request)
    now = _now()
    why = ended(share, now)
    if why == "expired" and share.sealed is not None:
        with write_transaction(session):
            wipe_expired(session, share.id, now=now)
    if why:
        return _gone_page(request, why)
    try:
        check_locked(share, now)
    except Locked as locked:
        return _locked_page(request, locked)
    return None


@router.post("/shared/{token}", response_class=HTMLResponse)
@csrf.shows_form_again
def shared_show(request: Request, token: str, data: Posted, session: DbSession) -> Response:
    """Check the passcode (one counted try) and show the notes."""
    if csrf.failed(request):
        return _open_page(request, message=csrf.FORM_AGAIN_MESSAGE, status_code=403)
    passcode = passcodes.normalise(data.get("passcode", ""))[: passcodes.MAX_LENGTH]
    if not passcode:  # not a try: nothing to check, unless the link cannot be tried at all
        return _link_state(request, session, token) or _open_page(
            request, message="Type the passcode you were given.", status_code=422
        )
    if find(session, token) is None:  # a read, so unknown links never take the write lock
        return _not_found(request)
    now = _now()
    # Pages are rendered after the write lock is let go: the block only decides.
    refusal: Callable[[], Response] | None = None
    with write_transaction(session):
        share = find(session, token, lock=True)
        if share is None:
            refusal = partial(_not_found, request)
        elif why := ended(share, now):
            share.sealed = None  # expired, not yet purged: wiped now, as the page says
            refusal = partial(_gone_page, request, why)
        else:
            try:
                check_locked(share, now)
                count_open(session, client=ratelimit.client_address(request), now=now)
                stamp = reserve_try(share, now)
            except Locked as locked:
                refusal = partial(_locked_page, request, locked)
            except ratelimit.RateLimited as limited:
                refusal = partial(
                    _open_page, request, message=CLIENT_LIMIT_MESSAGE, status_code=429,
                    retry_after=limited.retry_after,
                )  # fmt: skip
            sealed, share_id = share.sealed, share.id
    if refusal is not None:
        return refusal()
    content: dict[str, Any] | None
    try:
        content = open_notes(sealed or "", token, passcode)
    except WrongPasscode:
        content = None
    except Busy:
        with write_transaction(session):
            share = session.get(Share, share_id, with_for_update=True, populate_existing=True)
            if share is not None:
                cancel_try(share, stamp)
        return _open_page(
            request, message=BUSY_MESSAGE, status_code=503, retry_after=BUSY_RETRY_SECONDS
        )
    later = _now()
    with write_transaction(session):
        share = session.get(Share, share_id, with_for_update=True, populate_existing=True)
        left = settle_try(share, stamp, right=content is not None, now=later) if share else 0
    if share is None:  # deleted meanwhile (the purge of an ended link)
        return _not_found(request)
    if content is None:
        if left == 0:  # this wrong passcode paused the link
            return _open_page(
                request, message=LOCKED_MESSAGE, status_code=403,
                retry_after=int(LOCKED_FOR.total_seconds()), paused=True,
            )  # fmt: skip
        return _open_page(request, message=WRONG_PASSCODE, status_code=403, tries_left=left)
    study = load_study(session, str(content.get("nct_id", "")))
    context = {
        "content": content,
        "answers": ANSWERS,
        "study": study,
        "age_range": age_range_label(study) if study else None,
        "sex_label": sex_label(study.sex) if study else None,
        "expires_at": share.expires_at,
    }
    return headers.private(render(request, "notes/shared.html", context))
