"""Editing listings: studies and their sites, with server-side validation and an audit trail.

An edited study field is protected from the next ClinicalTrials.gov import: it is kept in
`Study.admin_overrides`, which the importer applies over the registry's values (the page
says so, and "Undo my edits" hands the fields back to the registry). A site added or
edited here is marked `admin_managed`, and imports leave it alone.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from email_validator import EmailNotValidError
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.addresses import mail_address
from app.admin.auth import Admin, audit
from app.admin.models import AdminUser
from app.admin.pages import Id, Page, get_or_404, now, paginate, printable, record, render
from app.ctgov.importer import EDITABLE_FIELDS, site_key
from app.db import write_transaction
from app.deps import DbSession
from app.languages import ALL as ALL_LANGUAGES
from app.languages import is_language
from app.studies.indexing import reindex
from app.studies.models import Site, Study, utcnow
from app.studies.rules import NCT_ID, SEXES, STATUSES, age_in_years
from app.studies.sites import count_sites

router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_TEXT = 20_000


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    # Browsers send textareas with CRLF; stored text uses LF, so an unchanged save is a no-op.
    return {
        k: v.replace("\r\n", "\n").replace("\r", "\n").strip()
        for k, v in form.items()
        if isinstance(v, str)
    }


async def _form_lists(request: Request) -> dict[str, list[str]]:
    """Every value of each field, for fields a form repeats (a multiple select)."""
    form = await request.form()
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            lists.setdefault(key, []).append(value.strip())
    return lists


# Read before the session dependency, so the routes can be plain `def` (thread pool) and
# hold no database connection while a body arrives.
FormFields = Annotated[dict[str, str], Depends(_form)]
FormLists = Annotated[dict[str, list[str]], Depends(_form_lists)]


def _lines(text: str) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def _clean_text(value: str, *, required: bool, limit: int = MAX_TEXT) -> str | None:
    if required and not value:
        raise ValueError("This is required.")
    if len(value) > limit:
        raise ValueError(f"Please keep this under {limit:,} characters.")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise ValueError("Remove the invisible control characters.")
    return value or None


@dataclass
class StudyForm:
    values: dict[str, Any]
    errors: dict[str, str]


def parse_study_form(data: dict[str, str]) -> StudyForm:
    """Validate the study form into model values; every problem is reported by field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def take(field: str, check: Any) -> None:
        try:
            values[field] = check(data.get(field, ""))
        except ValueError as exc:
            errors[field] = str(exc)

    take("brief_title", lambda v: _clean_text(v, required=True, limit=5000))
    take("official_title", lambda v: _clean_text(v, required=False, limit=5000))
    take("brief_summary", lambda v: _clean_text(v, required=False))
    take("eligibility_criteria", lambda v: _clean_text(v, required=False))
    take("conditions", lambda v: _lines(_clean_text(v, required=True, limit=5000) or ""))
    take("keywords", lambda v: _lines(_clean_text(v, required=False, limit=5000) or ""))

    status = data.get("overall_status", "").upper()
    if status not in STATUSES:
        errors["overall_status"] = "Choose a status from the list."
    values["overall_status"] = status
    sex = data.get("sex", "ALL").upper()
    if sex not in SEXES:
        errors["sex"] = "Choose all, female or male."
    values["sex"] = sex
    for field in ("min_age", "max_age"):
        text = data.get(field, "")
        try:
            years = age_in_years(text or None)
        except ValueError:
            errors[field] = (
                'Write an age like "18 Years", "6 Months" or "2 Weeks", or leave it empty.'
            )
            years = None
        values[field], values[f"{field}_years"] = text or None, years
    low, high = values.get("min_age_years"), values.get("max_age_years")
    if low is not None and high is not None and low > high:
        errors["max_age"] = "The maximum age is below the minimum age."
    values["healthy_volunteers"] = {"yes": True, "no": False}.get(
        data.get("healthy_volunteers", "")
    )
    return StudyForm(values, errors)


def apply_study_edit(study: Study, values: dict[str, Any]) -> list[str]:
    """Set the edited fields and remember them as overrides (the caller reindexes)."""
    changed = [k for k, v in values.items() if getattr(study, k) != v]
    if "overall_status" in changed:
        study.status_since = utcnow()  # newly in its status: patient alerts see it
    for field in changed:
        setattr(study, field, values[field])
    overrides = dict(study.admin_overrides or {})
    overrides.update({k: values[k] for k in changed if k in EDITABLE_FIELDS})
    study.admin_overrides = overrides
    return changed


@router.get("/studies", response_class=HTMLResponse)
def studies_list(
    request: Request,
    admin: Admin,
    session: DbSession,
    q: str = "",
    status: str = "",
    page: Page = 1,
) -> Response:
    site_count = (
        select(func.count(Site.id)).where(Site.study_id == Study.id).scalar_subquery().label("n")
    )
    query = select(Study, site_count)
    text = printable(q).strip()
    if text:
        pattern = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(or_(Study.nct_id == text.upper(), Study.brief_title.ilike(pattern)))
    if status.upper() in STATUSES:
        query = query.where(Study.overall_status == status.upper())
    paged = paginate(session, query, page=page, order_by=[Study.nct_id])
    context = {
        "admin": admin,
        "rows": paged.rows,
        "q": q,
        "status": status.upper(),
        "statuses": STATUSES,
        "page": paged.page,
        "pages": paged.pages,
        "total": paged.total,
    }
    return render(request, "admin/studies.html", context)


def _short(value: Any) -> Any:
    """A value as the audit log keeps it: long texts cut, so the log stays readable."""
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value


def _form_page(
    request: Request,
    template: str,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A study or site form, filled in with `values`, each error by its field."""
    context |= {"values": values, "errors": errors, "statuses": STATUSES, "sexes": SEXES}
    return render(request, f"admin/{template}.html", context, status_code=status_code)


def _values_of(study: Study) -> dict[str, Any]:
    return {
        "brief_title": study.brief_title,
        "official_title": study.official_title or "",
        "brief_summary": study.brief_summary or "",
        "overall_status": study.overall_status,
        "conditions": "\n".join(study.conditions),
        "keywords": "\n".join(study.keywords),
        "eligibility_criteria": study.eligibility_criteria or "",
        "sex": study.sex,
        "min_age": study.min_age or "",
        "max_age": study.max_age or "",
        "healthy_volunteers": {True: "yes", False: "no"}.get(study.healthy_volunteers, ""),  # type: ignore[arg-type]
    }


@router.get("/studies/new", response_class=HTMLResponse)
def new_study_page(request: Request, admin: Admin) -> Response:
    values = {"overall_status": "RECRUITING", "sex": "ALL"}
    return _form_page(request, "study", values, {}, admin=admin, study=None)


@router.post("/studies/new", response_class=HTMLResponse)
def create_study(request: Request, data: FormFields, admin: Admin, session: DbSession) -> Response:
    form = parse_study_form(data)
    nct_id = data.get("nct_id", "").upper()
    if not NCT_ID.match(nct_id):
        form.errors["nct_id"] = "An NCT ID is NCT followed by 8 digits, like NCT01234567."
    if form.errors:
        return _form_page(request, "study", data, form.errors, 422, admin=admin, study=None)
    with write_transaction(session):
        taken = session.scalar(select(Study.id).where(Study.nct_id == nct_id)) is not None
        if not taken:
            study = _create_study(session, nct_id, form.values, actor=admin.email)
    if taken:
        form.errors["nct_id"] = "A study with this NCT ID exists already."
        return _form_page(request, "study", data, form.errors, 422, admin=admin, study=None)
    return RedirectResponse(f"/admin/studies/{study.id}", status_code=303)


def _create_study(session: Session, nct_id: str, values: dict[str, Any], *, actor: str) -> Study:
    when = now()
    study = Study(
        nct_id=nct_id,
        source_hash="",
        imported_at=when,
        updated_at=when,
        phases=[],
        mesh_terms=[],
        mesh_ancestors=[],
        central_contacts=[],
        admin_overrides={},
        search_conditions="",
        search_mesh="",
        search_title="",
        **_empty(values),
    )
    apply_study_edit(study, values)
    session.add(study)
    session.flush()
    reindex(session, study)
    audit(session, actor=actor, action="study.create", now=when, target=f"study:{nct_id}")
    return study


def _empty(values: dict[str, Any]) -> dict[str, Any]:
    """Placeholder values for a new study, replaced by apply_study_edit right after."""
    return {k: ([] if isinstance(v, list) else None) for k, v in values.items()} | {
        "brief_title": "",
        "overall_status": values["overall_status"],
        "sex": values["sex"],
    }


@router.get("/studies/{study_id}", response_class=HTMLResponse)
def edit_study_page(request: Request, study_id: Id, admin: Admin, session: DbSession) -> Response:
    study = get_or_404(session, Study, study_id)
    return _form_page(request, "study", _values_of(study), {}, admin=admin, study=study)


@router.post("/studies/{study_id}", response_class=HTMLResponse)
def edit_study(
    request: Request, study_id: Id, data: FormFields, admin: Admin, session: DbSession
) -> Response:
    form = parse_study_form(data)
    if form.errors:
        study = get_or_404(session, Study, study_id)
        return _form_page(request, "study", data, form.errors, 422, admin=admin, study=study)
    with write_transaction(session):
        study = get_or_404(session, Study, study_id, for_update=True)
        before = {k: getattr(study, k) for k in form.values}
        changed = apply_study_edit(study, form.values)
        if changed:
            study.updated_at = now()
            reindex(session, study)
            record(
                session,
                admin,
                "study.edit",
                f"study:{study.nct_id}",
                changes={k: [_short(before[k]), _short(form.values[k])] for k in sorted(changed)},
            )
    return RedirectResponse(f"/admin/studies/{study.id}", status_code=303)


@router.post("/studies/{study_id}/revert")
def revert_study(request: Request, study_id: Id, admin: Admin, session: DbSession) -> Response:
    """Give the edited fields back to the registry: the next import overwrites them."""
    with write_transaction(session):
        study = get_or_404(session, Study, study_id, for_update=True)
        fields = sorted(study.admin_overrides or {})
        study.admin_overrides = {}
        study.source_hash = ""  # so that the next import rewrites the study from the registry
        record(session, admin, "study.revert", f"study:{study.nct_id}", fields=fields)
    return RedirectResponse(f"/admin/studies/{study.id}", status_code=303)


@router.post("/studies/{study_id}/delete")
def delete_study(request: Request, study_id: Id, admin: Admin, session: DbSession) -> Response:
    with write_transaction(session):
        study = get_or_404(session, Study, study_id, for_update=True)
        record(
            session,
            admin,
            "study.delete",
            f"study:{study.nct_id}",
            title=study.brief_title,
            status=study.overall_status,
            sites=count_sites(session, study),
        )
        session.delete(study)
    return RedirectResponse("/admin/studies", status_code=303)


# --- sites -----------------------------------------------------------------------------


def parse_site_form(data: dict[str, str]) -> StudyForm:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, required, limit in (
        ("facility", True, 500),
        ("city", False, 200),
        ("state", False, 200),
        ("zip", False, 40),
        ("country", True, 200),
    ):
        try:
            values[field] = _clean_text(data.get(field, ""), required=required, limit=limit)
        except ValueError as exc:
            errors[field] = str(exc)
    status = data.get("status", "").upper()
    if status and status not in STATUSES:
        errors["status"] = "Choose a status from the list."
    values["status"] = status or None
    for field, bound in (("lat", 90), ("lon", 180)):
        text = data.get(field, "")
        try:
            number = float(text) if text else None
        except ValueError:
            number = None
            errors[field] = "Write a number in decimal degrees, like 41.8781."
        if number is not None and not -bound <= number <= bound:
            errors[field] = f"Must be between -{bound} and {bound}."
        values[field] = number
    if (values.get("lat") is None) != (values.get("lon") is None) and "lat" not in errors:
        errors["lat"] = "Give both latitude and longitude, or neither."
    contact: dict[str, Any] = {}
    for key in ("name", "phone"):
        try:
            cleaned = _clean_text(data.get(f"contact_{key}", ""), required=False, limit=200)
        except ValueError as exc:
            errors[f"contact_{key}"] = str(exc)
            continue
        if cleaned:
            contact[key] = cleaned
    email = data.get("contact_email", "")
    if email:
        try:
            contact["email"] = mail_address(email)
        except EmailNotValidError:
            errors["contact_email"] = "Enter an email address like name@example.org."
    values["contact"] = contact
    return StudyForm(values, errors)


def _site_values_of(site: Site) -> dict[str, Any]:
    first = site.contacts[0] if site.contacts else {}
    return {
        "facility": site.facility or "",
        "city": site.city or "",
        "state": site.state or "",
        "zip": site.zip or "",
        "country": site.country or "",
        "status": site.status or "",
        "lat": "" if site.lat is None else str(site.lat),
        "lon": "" if site.lon is None else str(site.lon),
        "contact_name": first.get("name", ""),
        "contact_email": first.get("email", ""),
        "contact_phone": first.get("phone", ""),
    }


def take_over(site: Site) -> None:
    """Mark a site as the administrators': imports leave it, and skip their copy of it."""
    if not site.admin_managed and site.facility is not None:
        site.registry_key = site_key(site)
    site.admin_managed = True


def _apply_site(site: Site, values: dict[str, Any]) -> None:
    take_over(site)
    if site.id is not None and site.status != values["status"]:
        site.status_since = utcnow()  # newly in its status: patient alerts see it
    for field in ("facility", "city", "state", "zip", "country", "status", "lat", "lon"):
        setattr(site, field, values[field])
    contacts = [dict(c) for c in site.contacts]
    first = contacts[0] if contacts else {}
    # Keep what the form does not show (role, extension); the form's fields replace theirs.
    edited = {k: v for k, v in first.items() if k not in ("name", "email", "phone")}
    edited.update(values["contact"])
    if values["contact"]:
        contacts = [edited, *contacts[1:]]
    elif contacts:
        contacts = contacts[1:]
    site.contacts = contacts


@router.get("/studies/{study_id}/sites/new", response_class=HTMLResponse)
def new_site_page(request: Request, study_id: Id, admin: Admin, session: DbSession) -> Response:
    study = get_or_404(session, Study, study_id)
    return _form_page(request, "site", {}, {}, admin=admin, study=study, site=None)


@router.post("/studies/{study_id}/sites/new", response_class=HTMLResponse)
def create_site(
    request: Request, study_id: Id, data: FormFields, admin: Admin, session: DbSession
) -> Response:
    return _save_site(request, admin, session, data, study_id=study_id)


def _save_site(
    request: Request,
    admin: AdminUser,
    session: Session,
    data: dict[str, str],
    *,
    study_id: int | None = None,
    site_id: int | None = None,
) -> Response:
    """Add a site to study `study_id`, or save site `site_id`; the form again on errors."""
    form = parse_site_form(data)
    if form.errors:
        site = get_or_404(session, Site, site_id) if site_id else None
        study = site.study if site else get_or_404(session, Study, study_id or 0)
        context = {"admin": admin, "study": study, "site": site}
        return _form_page(request, "site", data, form.errors, 422, **context)
    with write_transaction(session):
        if site_id:
            site = get_or_404(session, Site, site_id, for_update=True)
            study, before = site.study, _site_values_of(site)
        else:
            study = get_or_404(session, Study, study_id or 0, for_update=True)
            last = session.scalar(select(func.max(Site.position)).where(Site.study_id == study.id))
            site = Site(study_id=study.id, position=(-1 if last is None else last) + 1, contacts=[])
            session.add(site)
            before = None
        _apply_site(site, form.values)
        session.flush()
        if before is None:
            record(session, admin, "site.create", f"site:{site.id}", study=study.nct_id)
        else:
            after = _site_values_of(site)
            changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
            record(
                session, admin, "site.edit", f"site:{site.id}", changes=changes, study=study.nct_id
            )
    return RedirectResponse(f"/admin/studies/{study.id}", status_code=303)


@router.get("/sites/{site_id}", response_class=HTMLResponse)
def edit_site_page(request: Request, site_id: Id, admin: Admin, session: DbSession) -> Response:
    site = get_or_404(session, Site, site_id)
    return _form_page(
        request,
        "site",
        _site_values_of(site),
        {},
        admin=admin,
        study=site.study,
        site=site,
        languages=ALL_LANGUAGES,
    )


@router.post("/sites/{site_id}", response_class=HTMLResponse)
def edit_site(
    request: Request, site_id: Id, data: FormFields, admin: Admin, session: DbSession
) -> Response:
    return _save_site(request, admin, session, data, site_id=site_id)


@router.post("/sites/{site_id}/languages")
def site_languages(
    request: Request, site_id: Id, data: FormLists, admin: Admin, session: DbSession
) -> Response:
    """Record the other languages a site's team speaks. Not a take-over: the registry still
    keeps the site's status and address up to date."""
    chosen = [code for code in data.get("language", []) if is_language(code)]
    with write_transaction(session):
        site = get_or_404(session, Site, site_id, for_update=True)
        before, site.languages = list(site.languages or []), list(dict.fromkeys(chosen))
        if before != site.languages:
            record(
                session,
                admin,
                "site.languages",
                f"site:{site.id}",
                before=before,
                after=site.languages,
            )
    return RedirectResponse(f"/admin/sites/{site_id}", status_code=303)


@router.post("/sites/{site_id}/delete")
def delete_site(request: Request, site_id: Id, admin: Admin, session: DbSession) -> Response:
    with write_transaction(session):
        site = get_or_404(session, Site, site_id, for_update=True)
        study_id = site.study_id
        record(session, admin, "site.delete", f"site:{site.id}", study=site.study.nct_id)
        session.delete(site)
    return RedirectResponse(f"/admin/studies/{study_id}", status_code=303)
