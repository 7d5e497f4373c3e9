"""The patient's journey in Chromium: search, results, study, contact, confirmation, email."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_search_to_confirmation_and_both_emails(
    chromium: Any, live_server: str, smtp: SmtpSink, viewport: dict[str, int], label: str
) -> None:
    smtp.clear()
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(live_server + "/")
    screenshot(page, f"home-{label}")
    page.get_by_label("Condition or disease").fill("astma")  # one typo is forgiven
    page.get_by_label("Age in years").fill("40")
    page.get_by_label("City or ZIP code").fill("Chicago, IL")
    page.get_by_role("button", name="Search trials").click()
    page.wait_for_url("**/studies?*")
    assert "1 study found" in page.content()
    screenshot(page, f"results-{label}")
    page.get_by_role("link", name="Breathing exercises for adults with asthma").click()
    page.wait_for_url("**/studies/NCT98765432*")
    screenshot(page, f"study-{label}")
    page.get_by_role(
        "link", name="Get in touch with the nearest study center"
    ).first.click()  # the one at the top; the page repeats it at the end
    page.wait_for_url("**/contact*")
    assert page.get_by_label("Lakeside Clinic", exact=False).is_checked()
    screenshot(page, f"contact-{label}")
    page.get_by_label("First name").fill("Maria")
    page.get_by_label("Last name").fill(f"Garcia {label.title()}".replace(" ", "-"))
    page.get_by_label("Email address").fill(f"maria.{label}@example.com")
    page.get_by_label("Phone number").fill("(202) 456-1111")
    page.get_by_label("Preferred other language (optional)").select_option("es")
    page.get_by_label("I agree that TrialFinder may share these details").check()
    page.get_by_role("button", name="Send my details to the study team").click()
    page.wait_for_url("**/contact/requests/*")
    text = page.content()
    assert "We have submitted the contact information you provided" in text
    assert "to the research team at Lakeside Clinic" in text
    screenshot(page, f"confirmation-{label}")
    received = smtp.wait_for(2, timeout=15)
    recipients = sorted(m.rcpt_tos[0] for m in received)
    assert recipients == ["dana@example.org", f"maria.{label}@example.com"]
    context.close()


def test_keyboard_only_and_errors_take_the_focus(chromium: Any, live_server: str) -> None:
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(live_server + "/studies/NCT98765432/contact")
    # No place yet: the page asks where the patient is, by keyboard too.
    assert page.locator("h1").inner_text() == "Where are you?"
    page.focus("#location")
    page.keyboard.type("Chicago, IL")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".site-option", has_text="(nearest)").count() == 1
    page.focus("#first_name")
    page.keyboard.type("Ana")
    page.keyboard.press("Tab")
    page.keyboard.type("Lima")
    page.keyboard.press("Tab")
    page.keyboard.type("not-an-email")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "phone"
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the form from a text field
    assert page.evaluate("document.activeElement.id") == "email"  # the first field in error
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.locator("#email").get_attribute("aria-invalid") == "true"
    assert "email-error" in (page.locator("#email").get_attribute("aria-describedby") or "")
    screenshot(page, "contact-errors-desktop")
    context.close()


def test_the_contact_form_can_be_completed_with_the_keyboard_alone(
    chromium: Any, live_server: str, smtp: SmtpSink
) -> None:
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server + "/studies/NCT98765432/contact?location=Chicago%2C%20IL")

    def active() -> str:
        return str(page.evaluate("document.activeElement.id || document.activeElement.tagName"))

    for _ in range(40):  # from the top of the page, Tab until the first field
        page.keyboard.press("Tab")
        if active() == "first_name":
            break
    assert active() == "first_name"
    for text in ("Kim", "Nguyen", "kim.nguyen@example.com", "202 456 1111"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    assert active() == "language"
    page.keyboard.press("Tab")
    assert active() == "consent"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # past the link to the privacy page, read before sending
    assert page.evaluate("document.activeElement.pathname") == "/privacy"
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/contact/requests/" in page.url
    assert "We have submitted the contact information you provided" in page.content()
    context.close()


def test_choosing_a_language_marks_the_sites_that_speak_it(chromium: Any, live_server: str) -> None:
    context = chromium.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.goto(f"{live_server}/studies/NCT98765432/contact?lat=41.88&lon=-87.63")
    lakeside = page.locator(".site-option", has_text="Lakeside Clinic")
    prairie = page.locator(".site-option", has_text="Prairie Hospital")
    assert "Other languages supported: Spanish" in lakeside.inner_text()
    assert lakeside.locator(".badge-language").count() == 0
    page.select_option("#language", "es")
    assert lakeside.locator(".badge-language").inner_text() == "Speaks Spanish"
    assert prairie.locator(".badge-language").count() == 0
    page.select_option("#language", "fr")
    assert lakeside.locator(".badge-language").count() == 0
    context.close()
