"""Shared steps of the alert tests: sign up through the pages, read the links in the mail."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ctgov.importer import RawRecord, import_records
from app.outbox.models import OutboxMessage

TOKEN = r"[A-Za-z0-9_-]{43}"


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_up(client: TestClient, query: str = "condition=asthma", **fields: str) -> Any:
    """Open /alerts?query, then send the form as the page fills it in, with `fields` on top."""
    page = client.get(f"/alerts?{query}")
    assert page.status_code == 200
    data: dict[str, Any] = dict(
        re.findall(r'<input id="[^"]+" name="([^"]+)" type="text"[^>]*value="([^"]*)"', page.text)
    )
    data.pop("leave_empty", None)
    for name in ("lat", "lon", "from"):
        found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
        if found:
            data[name] = found.group(1)
    radius = re.search(r'<option value="([^"]+)" selected>[^<]*km', page.text)
    if radius:
        data["radius_km"] = radius.group(1)
    data["status"] = re.findall(r'type="hidden" name="status" value="([^"]+)"', page.text)
    if re.search(
        r'id="open_soon" name="status" type="checkbox" value="NOT_YET_RECRUITING" checked',
        page.text,
    ):
        data["status"].append("NOT_YET_RECRUITING")
    data.update({"email": "robin.example@example.net", "consent": "yes"})
    data.update(fields)
    data["csrf_token"] = csrf_token(page.text)
    return client.post("/alerts", data=data, follow_redirects=False)


def link(text: str, kind: str) -> str:
    """The path of the first /alerts/<kind>/<token> link in `text`."""
    found = re.search(rf"/alerts/{kind}/{TOKEN}", text)
    assert found, f"no {kind} link"
    return found.group(0)


def queued(session: Session, kind: str) -> list[OutboxMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


def load_at(session: Session, when: dt.datetime, *studies: dict[str, Any]) -> None:
    """Import API v2 study objects as the importer would at `when`."""
    records = (RawRecord("test", f"index {i}", s) for i, s in enumerate(studies))
    report = import_records(session, records, now=when)
    assert not report.rejected, report.rejected
    session.commit()
