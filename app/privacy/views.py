"""The privacy page: what TrialFinder keeps about a patient, why, for how long, who sees it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from app.alerts import consent as alert_consent
from app.config import Settings
from app.contact.consent import CONSENT_VERSION, wording
from app.templating import render

router = APIRouter(include_in_schema=False)  # a page, not API: kept out of /docs


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    context = {
        "consent_wording": wording(CONSENT_VERSION),
        "consent_version": CONSENT_VERSION,
        "alert_consent_wording": alert_consent.wording(alert_consent.CONSENT_VERSION),
        "alert_consent_version": alert_consent.CONSENT_VERSION,
        "retention_days": settings.retention_days,
        "privacy_contact_email": settings.privacy_contact_email,
    }
    return render(request, "privacy.html", context)
