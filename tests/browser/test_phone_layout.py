"""Within reach on a phone (issue 10, point 2): positions measured in Chromium at 375 x 812.

The first result, the contact form's first field and the end of a big study's page are
measured with bounding boxes and page heights; nothing may scroll sideways at 320 px.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import BIG_NCT_ID, LONG_EMAIL, LONG_WORD, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
SCREEN = PHONE["height"]
RESULTS = "/studies?condition=asthma&location=Chicago%2C%20IL"
CONTACT = "/studies/NCT98765432/contact?location=Chicago%2C%20IL"
BIG_STUDY = f"/studies/{BIG_NCT_ID}?location=Chicago%2C%20IL"
BIG_CONTACT = f"/studies/{BIG_NCT_ID}/contact?location=Chicago%2C%20IL"


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def top(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return float(box["y"])


def test_results_summarise_the_search_and_show_the_first_result_on_the_first_screen(
    phone: Any, live_server: str
) -> None:
    phone.goto(live_server + RESULTS)
    summary = phone.locator(".search-summary")
    assert summary.inner_text().startswith("Asthma · near Chicago, IL · within 100 km")
    assert phone.locator("#condition").is_hidden()  # folded away
    first = top(phone, ".study-card h3 a")
    assert first < SCREEN, first
    screenshot(phone, "phone-results")

    phone.get_by_text("Change search").click()
    assert phone.locator("#condition").is_visible()
    assert phone.locator("#condition").input_value() == "asthma"


def test_results_with_errors_keep_the_form_open(phone: Any, live_server: str) -> None:
    phone.goto(live_server + "/studies?age=abc&location=Springfield")
    assert phone.locator("#age").is_visible()
    assert phone.locator(".error-summary").is_visible()


def test_the_desktop_results_keep_the_form_in_view(chromium: Any, live_server: str) -> None:
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(live_server + RESULTS)
    assert page.locator("#condition").is_visible()
    assert page.locator(".search-summary").is_hidden()
    context.close()


def test_the_contact_form_shows_one_site_card_and_the_first_field_within_two_screens(
    phone: Any, live_server: str
) -> None:
    phone.goto(live_server + BIG_CONTACT)
    chosen = phone.locator(".site-option:visible")
    assert chosen.count() == 1
    assert "Clinic 000" in chosen.inner_text()
    assert "(nearest)" in chosen.inner_text()
    assert phone.locator("input[name=site]:checked").count() == 1
    assert phone.get_by_text("Choose from all 800 sites that take contacts").count() == 1
    field = top(phone, "#first_name")
    assert field < 2 * SCREEN, field
    screenshot(phone, "phone-contact-big")

    # The other sites are one tap away, radio buttons in the same form.
    phone.get_by_text("Choose another site").click()
    others = phone.locator(".site-option:visible")
    assert others.count() == 10
    phone.locator(".site-option", has_text="Clinic 001").locator("input").check()
    assert phone.locator("input[name=site]:checked").count() == 1


def test_the_small_contact_form_keeps_its_languages_line(phone: Any, live_server: str) -> None:
    phone.goto(live_server + CONTACT)
    chosen = phone.locator(".site-option:visible")
    assert chosen.count() == 1
    assert "Lakeside Clinic (nearest)" in chosen.inner_text()
    assert "Other languages supported: Spanish" in chosen.inner_text()
    assert top(phone, "#first_name") < 2 * SCREEN


def test_a_site_sent_with_errors_stays_chosen(phone: Any, live_server: str) -> None:
    phone.goto(live_server + BIG_CONTACT)
    phone.get_by_text("Choose another site").click()
    phone.locator(".site-option", has_text="Clinic 001").locator("input").check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send my details to the study team").click()
    assert phone.locator(".error-summary").is_visible()
    assert phone.locator(".site-option", has_text="Clinic 001").locator("input").is_checked()
    assert phone.locator(".site-option", has_text="Clinic 001").is_visible()


def test_a_study_with_hundreds_of_sites_stays_short_and_ends_with_the_call_to_action(
    phone: Any, live_server: str
) -> None:
    phone.goto(live_server + BIG_STUDY)
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height < 15_000, height
    assert phone.get_by_role("link", name="See all 800 sites").count() == 1
    calls = phone.get_by_role("link", name="Get in touch with the nearest study center")
    assert calls.count() == 2
    sites = top(phone, "#sites-heading")
    assert calls.nth(1).bounding_box()["y"] > sites  # after the sites, at the end
    screenshot(phone, "phone-study-big")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        RESULTS,
        "/studies?condition=eczema&location=Chicago%2C%20IL",
        "/studies/NCT98765432?location=Chicago%2C%20IL",
        BIG_STUDY,
        CONTACT,
        BIG_CONTACT,
        "/privacy",
    ],
)
def test_nothing_scrolls_sideways_at_320px(chromium: Any, live_server: str, path: str) -> None:
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(live_server + path)
    if path == BIG_CONTACT:
        page.get_by_text("Choose another site").click()
        assert LONG_EMAIL in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, (path, width)
    context.close()


def test_the_confirmation_does_not_scroll_sideways_at_320px(
    chromium: Any, live_server: str
) -> None:
    context = chromium.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(live_server + BIG_CONTACT)
    page.get_by_label("First name").fill("Lee")
    page.get_by_label("Last name").fill("Wong")
    page.get_by_label("Email address").fill("lee.wong@example.com")
    page.get_by_label("Phone number").fill("(202) 456-1111")
    page.get_by_label("I agree that TrialFinder may share these details").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send my details to the study team").click()
    assert "/contact/requests/" in page.url
    assert LONG_WORD in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, width
    context.close()


def test_the_folded_parts_open_without_javascript(chromium: Any, live_server: str) -> None:
    context = chromium.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + RESULTS)
    page.get_by_text("Change search").click()
    assert page.locator("#condition").is_visible()
    page.goto(live_server + BIG_CONTACT)
    page.get_by_text("Choose another site").click()
    assert page.locator(".site-option:visible").count() == 10
    context.close()


def test_a_form_sent_empty_shows_what_to_fix_on_the_screen(phone: Any, live_server: str) -> None:
    """The error summary is in view, and the focus waits in the first field to fix."""
    phone.goto(live_server + CONTACT)
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send my details to the study team").click()
    box = phone.locator("#error-summary").bounding_box()  # relative to the viewport
    assert box is not None
    assert 0 <= box["y"] < SCREEN / 2, box
    assert phone.evaluate("document.activeElement.id") == "first_name"
    screenshot(phone, "contact-errors-phone")
