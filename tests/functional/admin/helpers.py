"""Small helpers for admin tests: log in, read a form's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

EMAIL = "admin@example.org"
PASSWORD = "correct horse battery staple"


def token(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def log_in(client: TestClient, email: str = EMAIL, password: str = PASSWORD) -> Any:
    page = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": token(page.text),
            "next": "/admin",
        },
        follow_redirects=False,
    )
