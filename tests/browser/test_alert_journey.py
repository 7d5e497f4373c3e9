"""Signing up for alerts in Chromium: from the contact confirmation, with the condition and
place carried along, confirmed from the email in a fresh browser (as on another device)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import screenshot
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_sign_up_from_the_confirmation_then_confirm_from_the_email(
    chromium: Any, live_server: str, smtp: SmtpSink, viewport: dict[str, int], label: str
) -> None:
    smtp.clear()
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(live_server + "/studies/NCT98765432/contact?location=Chicago%2C+IL")
    page.get_by_label("First name").fill("Noor")
    page.get_by_label("Last name").fill("Example")
    page.get_by_label("Email address").fill(f"noor.{label}@example.com")
    page.get_by_label("Phone number").fill("(202) 456-1111")
    page.get_by_label("I agree that TrialFinder may share these details").check()
    page.get_by_role("button", name="Send my details to the study team").click()
    page.wait_for_url("**/contact/requests/*")
    smtp.wait_for(2, timeout=15)  # the request's two emails

    page.get_by_role("link", name="Sign up for Patient Notification Services").click()
    page.wait_for_url("**/alerts?*")
    assert page.get_by_label("Condition or disease").input_value() == "Asthma"
    assert page.get_by_label("City or ZIP code (optional)").input_value() == "Chicago, IL"
    assert not page.get_by_label("I agree that TrialFinder may email me").is_checked()
    page.get_by_label("Email address", exact=True).fill(f"noor.{label}@example.com")
    page.get_by_role("button", name="Sign up for alerts").click()
    # Without consent: the summary is shown and the box is marked, nothing is sent.
    assert page.locator(".error-summary").is_visible()
    assert page.get_by_label("City or ZIP code (optional)").input_value() == "Chicago, IL"
    page.get_by_label("I agree that TrialFinder may email me").check()
    page.get_by_role("button", name="Sign up for alerts").click()
    page.wait_for_url("**/alerts/check-email")
    screenshot(page, f"alerts-check-email-{label}")

    mail = smtp.wait_for(3, timeout=15)[2]
    assert len(smtp.messages) == 3  # one confirmation, nothing else
    assert mail.message["Subject"] == "Please confirm your TrialFinder alert"
    assert mail.rcpt_tos == [f"noor.{label}@example.com"]
    part = mail.message.get_body(("plain",))
    assert part is not None
    found = re.search(r"http://\S+/alerts/confirm/[A-Za-z0-9_-]{43}", part.get_content())
    assert found
    context.close()

    # The link opened elsewhere: a page with one button, which confirms.
    fresh = chromium.new_context(viewport=viewport)
    other = fresh.new_page()
    other.goto(found.group(0))
    assert "Asthma · within 100 km of Chicago, IL" in other.content()
    screenshot(other, f"alerts-confirm-{label}")
    other.get_by_role("button", name="Confirm").click()
    assert other.get_by_role("heading", name="Your alert is on").is_visible()
    other.get_by_role("link", name="See or delete your alerts").click()
    assert other.get_by_role("button", name="Delete this alert").is_visible()
    screenshot(other, f"alerts-manage-{label}")
    fresh.close()
