"""Every real record's study page and site list fit a 320 px phone (issue: phone layout).

The fictional studies of test_phone_layout.py stand for the worst cases we could think of;
the 940 real ClinicalTrials.gov records (read from ../shared, never copied here) are what
patients will meet: long unbroken words in titles and criteria, URLs, long email
addresses, tables written as text. Each study page is opened with every folded part
unfolded, and each contact form with the list of all its sites shown.
"""

from __future__ import annotations

from typing import Any

PHONE_320 = {"width": 320, "height": 640}
UNFOLD = "document.querySelectorAll('details').forEach(d => { d.open = true })"


def _too_wide(page: Any, url: str) -> int | None:
    page.goto(url)
    page.evaluate(UNFOLD)
    width = int(page.evaluate("document.documentElement.scrollWidth"))
    return width if width > PHONE_320["width"] else None


def test_no_real_study_page_or_site_list_scrolls_sideways_at_320px(
    chromium: Any, real_records_server: tuple[str, list[str]]
) -> None:
    base, nct_ids = real_records_server
    assert len(nct_ids) >= 900
    context = chromium.new_context(viewport=PHONE_320)
    page = context.new_page()
    too_wide: dict[str, int] = {}
    for nct_id in nct_ids:
        for path in (f"/studies/{nct_id}", f"/studies/{nct_id}/contact?choose=1"):
            width = _too_wide(page, base + path)
            if width is not None:
                too_wide[path] = width
    context.close()
    assert too_wide == {}
