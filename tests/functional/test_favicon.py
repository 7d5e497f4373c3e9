"""The site's icon: named by every page, public and admin, and found at /favicon.ico."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from fastapi.testclient import TestClient

from app.resources import STATIC_DIR

# url_for gives absolute links to the app's own files.
ICON_LINK = re.compile(
    r'<link rel="icon" href="(?:https?://[^/"]+)?/static/favicon\.svg" type="image/svg\+xml">'
)


def test_the_icon_is_a_small_plain_svg() -> None:
    path = STATIC_DIR / "favicon.svg"
    assert path.stat().st_size < 2048
    root = ElementTree.parse(path).getroot()  # noqa: S314 (our own file)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 32 32"
    assert "script" not in path.read_text().lower()


def test_every_kind_of_page_names_the_icon(client: TestClient) -> None:
    for url in ("/", "/studies?condition=asthma", "/learn", "/no-such-page", "/admin/login"):
        page = client.get(url)
        assert ICON_LINK.search(page.text), url


def test_the_icon_is_served_and_favicon_ico_leads_to_it(client: TestClient) -> None:
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    for method in ("GET", "HEAD"):
        moved = client.request(method, "/favicon.ico", follow_redirects=False)
        assert moved.status_code == 301, method
        assert moved.headers["location"] == "/static/favicon.svg"
    followed = client.get("/favicon.ico")
    assert followed.status_code == 200
    assert followed.content == icon.content
