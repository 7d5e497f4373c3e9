"""Odd numbers in URLs and forms: "²", "①", ids past the database's integers. Never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import load

ODD = ["²", "①", "٣", "2147483648", "99999999999", "123456789012345678901", "-1", "1e3", ""]


@pytest.fixture
def nct_id(session: Session) -> str:
    record = f.study(sites=[f.site(facility="Lake Clinic", contacts=[{"email": "t@example.org"}])])
    load(session, record)
    return str(record["protocolSection"]["identificationModule"]["nctId"])


@pytest.mark.parametrize("value", ODD)
def test_odd_site_ids_and_pages_are_not_found_never_an_error(
    client: TestClient, nct_id: str, value: str
) -> None:
    for url, ok in (
        (f"/studies/{nct_id}/contact?site={value}", {200}),
        (f"/studies/{nct_id}/summary?site={value}", {200}),
        (f"/studies/{nct_id}/sites?page={value}", {200, 404}),
    ):
        response = client.get(url)
        assert response.status_code in ok, (url, response.status_code)
    page = client.get(f"/studies/{nct_id}/contact")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    form: dict[str, Any] = {
        "first_name": "Ana",
        "last_name": "Lima",
        "email": "ana@example.com",
        "phone": "+1 202-456-1111",
        "site": value,
        "consent": "yes",
        "csrf_token": token.group(1),
    }
    posted = client.post(f"/studies/{nct_id}/contact", data=form)
    assert posted.status_code == 422
    assert "Choose a study site from the list" in posted.text


@pytest.mark.parametrize("length", ["²".encode("latin-1"), b"1e9", b"-5", b""])
def test_an_odd_content_length_passes_the_admin_gate_without_an_error(length: bytes) -> None:
    """The gate that refuses huge admin uploads reads Content-Length; junk is no number."""
    import asyncio
    import threading

    from app.admin.auth import AdminGate

    reached: list[bool] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/admin/login",
        "headers": [(b"content-length", length)],
        "query_string": b"",
    }
    # In a thread of its own: the browser tests may leave an event loop in this one.
    worker = threading.Thread(target=asyncio.run, args=(AdminGate(inner)(scope, receive, send),))
    worker.start()
    worker.join(10)
    assert reached == [True]
