"""Shared steps of the notes tests: fill in the checklist, share, open a link."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.alert_helpers import csrf_token

CRITERIA = (
    "Inclusion Criteria:\n\n"
    "* Adults aged 18 to 75 with imaginary fever\n"
    "* Able to walk 100 metres\n"
    "  * without a walking aid\n\n"
    "Exclusion Criteria:\n\n"
    "* Pregnancy or breastfeeding\n"
    "* Took part in another study within 30 days"
)
LINES = [
    "Adults aged 18 to 75 with imaginary fever",
    "Able to walk 100 metres",
    "without a walking aid",
    "Pregnancy or breastfeeding",
    "Took part in another study within 30 days",
]
SECRET_NOTE = "My cardiologist said zebra-marigold-plan"
PASSCODE = "correct horse battery"
SHARE_URL = re.compile(r"/shared/([A-Za-z0-9_-]{32})/manage/([A-Za-z0-9_-]{32})")


def share(client: TestClient, nct_id: str, *, passcode: str = PASSCODE, **fields: str) -> Any:
    """Open the notes page, answer and share, as a patient would without JavaScript."""
    page = client.get(f"/studies/{nct_id}/notes")
    assert page.status_code == 200
    data: dict[str, Any] = {
        "csrf_token": csrf_token(page.text),
        "answer-1": "yes",
        "answer-2": "unsure",
        "answer-4": "no",
        "note-2": "I use a stick on bad days",
        "note": SECRET_NOTE,
        "quote-1": "Able to walk 100 metres",
        "quote-note-1": "Ask whether the treadmill counts",
        "passcode": passcode,
        "expires_days": "30",
        "action": "share",
    }
    data.update(fields)
    return client.post(f"/studies/{nct_id}/notes", data=data, follow_redirects=False)


def shared(client: TestClient, nct_id: str, **fields: str) -> tuple[str, str]:
    """Share and return (token, revoke secret) from the page after sharing."""
    answer = share(client, nct_id, **fields)
    assert answer.status_code == 303, answer.text
    found = SHARE_URL.search(answer.headers["location"])
    assert found
    return found.group(1), found.group(2)


def open_share(client: TestClient, token: str, passcode: str = PASSCODE) -> Any:
    page = client.get(f"/shared/{token}")
    token_field = csrf_token(page.text) if page.status_code == 200 else _fresh_token(client)
    return client.post(f"/shared/{token}", data={"csrf_token": token_field, "passcode": passcode})


def _fresh_token(client: TestClient) -> str:
    """A CSRF token from any form page, for posting where the link's own page refused."""
    return csrf_token(client.get("/alerts").text)
