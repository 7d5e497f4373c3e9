"""Accessibility audit: axe-core in Chromium on every public page, WCAG 2.1 A and AA.

axe-core comes from the npm registry at test time (see `axe_script` in conftest.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import BIG_NCT_ID, WCAG, screenshot

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "results": "/studies?condition=asthma&location=Chicago%2C%20IL",
    "results-empty": "/studies?condition=zzzqqq",
    "results-error": "/studies?age=abc&location=Springfield",
    "study": "/studies/NCT98765432?location=Chicago%2C%20IL",
    "contact": "/studies/NCT98765432/contact?location=Chicago%2C%20IL",
    "contact-where": "/studies/NCT98765432/contact",
    # 800 sites, a long word in the title, a long email: the folded site choice on a phone.
    "contact-big": f"/studies/{BIG_NCT_ID}/contact?location=Chicago%2C%20IL",
    "study-big": f"/studies/{BIG_NCT_ID}?location=Chicago%2C%20IL",
    "results-long-title": "/studies?condition=eczema&location=Chicago%2C%20IL",
    "summary": "/studies/NCT98765432/summary",
    "learn": "/learn",
    "privacy": "/privacy",
    "not-found": "/studies/NCT00000000",
    "alerts": "/alerts?condition=asthma&location=Chicago%2C%20IL&from=results",
    "alerts-errors": "/alerts?condition=asthma&age=abc",
    "alerts-check-email": "/alerts/check-email",
    "alerts-manage": "/alerts/manage",
    "alerts-bad-link": "/alerts/manage/" + "x" * 43,
    "notes": "/studies/NCT98765432/notes",
    "shared-bad-link": "/shared/" + "x" * 32,
}


@pytest.mark.parametrize("name", sorted(PAGES))
@pytest.mark.parametrize("width", [375, 1280])
def test_no_wcag_violations(
    chromium: Any, live_server: str, axe_script: Path, name: str, width: int
) -> None:
    # bypass_csp: the audit script is injected; the site's own policy forbids inline script.
    context = chromium.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.goto(live_server + PAGES[name])
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    if width == 375 and name not in ("home", "results", "study", "contact"):
        screenshot(page, f"{name}-phone")
    violations = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
    ]
    context.close()
    assert violations == []


def test_pages_declare_their_language_landmarks_and_heading_order(
    chromium: Any, live_server: str, axe_script: Path
) -> None:
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    for path in PAGES.values():
        page.goto(live_server + path)
        assert page.get_attribute("html", "lang") == "en"
        assert page.locator("main").count() == 1
        assert page.locator("h1").count() == 1
        page.add_script_tag(path=str(axe_script))
        result = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'rule', values: "
            "['heading-order', 'landmark-one-main', 'region', 'page-has-heading-one']}})"
        )
        assert [v["id"] for v in result["violations"]] == [], path
    context.close()


def test_no_sideways_scrolling_on_a_320px_phone(chromium: Any, live_server: str) -> None:
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in PAGES.values():
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (path, width)
    context.close()


def test_text_is_at_least_16px_and_focus_is_visible(chromium: Any, live_server: str) -> None:
    page = chromium.new_page()
    page.goto(live_server + "/")
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert size >= 16
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.close()
