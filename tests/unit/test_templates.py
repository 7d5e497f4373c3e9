"""Templates as code: every template compiles and every page has a title."""

from __future__ import annotations

import pytest

from app.resources import STATIC_DIR, TEMPLATE_DIR
from app.templating import distance_label, make_templates

PAGES = sorted(
    str(p.relative_to(TEMPLATE_DIR))
    for p in TEMPLATE_DIR.rglob("*.html")
    if not p.name.startswith("_") and "_macros" not in p.parts and p.name != "base.html"
)


@pytest.mark.parametrize(
    "name", sorted(str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.html"))
)
def test_template_compiles(name: str) -> None:
    make_templates().env.get_template(name)


@pytest.mark.parametrize("name", PAGES)
def test_every_page_sets_a_title(name: str) -> None:
    assert "{% block title %}" in (TEMPLATE_DIR / name).read_text()


def test_distance_in_km_and_miles() -> None:
    assert distance_label(16.09344) == "16.1 km (10.0 miles)"


def test_static_assets_exist() -> None:
    assert (STATIC_DIR / "css/site.css").is_file()
    assert (STATIC_DIR / "js/site.js").is_file()


@pytest.mark.parametrize(
    "name", sorted(str(p.relative_to(TEMPLATE_DIR)) for p in TEMPLATE_DIR.rglob("*.html"))
)
def test_no_inline_scripts_or_styles(name: str) -> None:
    """A strict Content-Security-Policy forbids them; scripts and styles live in static/."""
    import re

    text = (TEMPLATE_DIR / name).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    assert "javascript:" not in text
