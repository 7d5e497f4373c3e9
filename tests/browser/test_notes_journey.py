"""Notes and sharing in Chromium: select a passage on the study page, add a note, answer the
checklist, share; open the link with the passcode in a fresh browser; wrong passcodes;
revoke; clear the notes. axe-core audits every page of the way at phone and desktop width."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import WCAG, screenshot
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
STUDY = "/studies/NCT98765432"
SELECT_CRITERION = """() => {
  const item = [...document.querySelectorAll('article.study li')]
    .find(li => li.textContent.trim() === 'Adults');
  const range = document.createRange();
  range.selectNodeContents(item);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}"""


def audit(page: Any, axe_script: Path, name: str) -> None:
    """axe-core's WCAG 2.1 A and AA rules on the page as it is now; none may fail."""
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    violations = [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]
    ]
    assert violations == [], name


@pytest.mark.parametrize(("viewport", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_select_a_passage_add_a_note_share_open_and_revoke(
    chromium: Any, live_server: str, axe_script: Path, viewport: dict[str, int], label: str
) -> None:
    patient = chromium.new_context(viewport=viewport, bypass_csp=True)
    page = patient.new_page()
    page.goto(live_server + STUDY)
    page.evaluate(SELECT_CRITERION)
    add = page.get_by_role("button", name="Add a note")
    add.wait_for(state="visible")
    add.click()
    page.wait_for_url(f"**{STUDY}/notes*")
    assert page.locator(".quote blockquote").inner_text() == "Adults"
    page.get_by_label("Your note on this passage").fill(f"I turned 40 in May ({label})")
    page.locator("#answer-1-yes").check()
    page.locator("#answer-2-unsure").check()
    page.get_by_label("Note on line 2 (optional)").fill("Planning a family next year")
    page.get_by_label("Your overall note (optional)").fill("Ask about travel costs")
    # Kept in this browser only: a reload brings everything back.
    page.reload()
    assert page.locator("#answer-1-yes").is_checked()
    assert page.get_by_label("Your note on this passage").input_value().startswith("I turned 40")
    assert (
        page.get_by_label("Your overall note (optional)").input_value() == "Ask about travel costs"
    )
    audit(page, axe_script, f"notes-{label}")
    screenshot(page, f"notes-{label}")

    passcode = page.get_by_label("Passcode").input_value()
    assert re.fullmatch(r"[a-z]+(-[a-z]+){3}", passcode)
    page.get_by_label("Days the link works").fill("7")
    page.get_by_role("button", name="Share my notes").click()
    page.wait_for_url("**/shared/*/manage/*")
    link = page.locator(".share-link a").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/shared/[A-Za-z0-9_-]{32}", link)
    assert passcode not in page.content()
    audit(page, axe_script, f"shared-manage-{label}")
    screenshot(page, f"shared-manage-{label}")

    doctor = chromium.new_context(viewport=viewport, bypass_csp=True)  # a fresh browser
    other = doctor.new_page()
    other.goto(link)
    audit(other, axe_script, f"shared-open-{label}")
    other.get_by_label("Passcode").fill("not-the-passcode")
    other.get_by_role("button", name="Open the notes").click()
    assert (
        other.locator(".error-summary")
        .inner_text()
        .startswith("That passcode does not open these notes.")
    )
    assert "4 more tries" in other.locator(".error-summary").inner_text()
    audit(other, axe_script, f"shared-wrong-{label}")
    other.get_by_label("Passcode").fill(passcode)
    other.get_by_role("button", name="Open the notes").click()
    other.get_by_role("heading", name="Notes about a clinical study").wait_for()
    text = other.locator("main").inner_text()
    assert f"I turned 40 in May ({label})" in text
    assert "Planning a family next year" in text
    assert "Ask about travel costs" in text
    assert "Breathing exercises for adults with asthma" in text
    audit(other, axe_script, f"shared-notes-{label}")
    screenshot(other, f"shared-notes-{label}")

    page.get_by_role("button", name="Withdraw the link now").click()
    page.get_by_role("heading", name="The link is withdrawn").wait_for()
    answer = other.goto(link)
    assert answer is not None
    assert answer.status == 410
    assert other.get_by_role("heading", name="This link no longer works").is_visible()
    doctor.close()

    # "Clear my notes" (a shared computer): nothing is left in this browser.
    page.goto(live_server + STUDY + "/notes")
    assert page.locator("#answer-1-yes").is_checked()
    page.get_by_role("button", name="Clear my notes").click()
    assert page.get_by_role("status").inner_text() == "Your notes are cleared from this browser."
    page.reload()
    assert not page.locator("#answer-1-yes").is_checked()
    assert page.locator(".quote").count() == 0
    assert page.get_by_label("Your overall note (optional)").input_value() == ""
    patient.close()


def test_five_wrong_passcodes_pause_the_link(
    chromium: Any, live_server: str, axe_script: Path
) -> None:
    patient = chromium.new_context(viewport=DESKTOP)
    page = patient.new_page()
    page.goto(live_server + STUDY + "/notes")
    page.locator("#answer-1-no").check()
    page.get_by_role("button", name="Share my notes").click()
    page.wait_for_url("**/shared/*/manage/*")
    link = page.locator(".share-link a").inner_text()
    patient.close()

    stranger = chromium.new_context(viewport=PHONE, bypass_csp=True)
    other = stranger.new_page()
    other.goto(link)
    for _ in range(5):
        other.get_by_label("Passcode").fill("guessing-again")
        other.get_by_role("button", name="Open the notes").click()
        other.locator(".error-summary").wait_for()
    assert "paused for 15 minutes" in other.locator(".error-summary").inner_text()
    assert other.get_by_label("Passcode").count() == 0  # nothing to type while paused
    # Coming back a minute later (with the right passcode, say): still paused (429).
    answer = other.goto(link)
    assert answer is not None
    assert answer.status == 429
    assert "paused for 15 minutes" in other.locator(".error-summary").inner_text()
    assert other.locator(".shared-notes").count() == 0
    audit(other, axe_script, "shared-paused-phone")
    stranger.close()


def test_the_answers_travel_with_a_contact_request_when_the_box_is_ticked(
    chromium: Any, live_server: str, smtp: SmtpSink
) -> None:
    smtp.clear()
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(live_server + STUDY + "/notes")
    page.locator("#answer-1-yes").check()
    page.locator("#answer-2-unsure").check()
    page.get_by_role("button", name="Get in touch, taking my answers along").click()
    page.wait_for_url(f"**{STUDY}/contact")
    include = page.get_by_label("Also send my answers to the study's criteria (2 lines)")
    assert not include.is_checked()  # off by default
    page.get_by_label("Lakeside Clinic").check()
    page.get_by_label("First name").fill("Noor")
    page.get_by_label("Last name").fill("Example")
    page.get_by_label("Email address").fill("noor.answers@example.com")
    page.get_by_label("Phone number").fill("(202) 456-1111")
    page.get_by_label("I agree that TrialFinder may share these details").check()
    include.check()
    page.get_by_role("button", name="Send my details to the study team").click()
    page.wait_for_url("**/contact/requests/*")
    received = smtp.wait_for(2, timeout=15)
    (site,) = [m for m in received if m.rcpt_tos == ["dana@example.org"]]
    body = site.message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "- Yes: Adults" in text
    assert "- Not sure: Pregnancy" in text
    assert '"Not sure" never excludes anyone' in text
    context.close()
