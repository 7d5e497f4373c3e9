"""The criteria macro: headings in a criteria list are shown as headings, never as bullets."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from app.studies.criteria import Criterion, parse_criteria
from app.templating import make_templates


def render(items: tuple[Criterion, ...]) -> str:
    template = make_templates().env.from_string(
        '{% from "_macros/criteria.html" import criteria_list %}{{ criteria_list(items) }}'
    )
    return " ".join(template.render(items=items).split())


class _Outline(HTMLParser):
    """Each element's text with the names of the elements that enclose it."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag, f"</{tag}> closes another element"

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts[data.strip()] = list(self.open)


def outline(html: str) -> dict[str, list[str]]:
    parser = _Outline()
    parser.feed(html)
    parser.close()
    assert parser.open == [], "unclosed elements"
    return parser.texts


def test_a_heading_is_a_heading_before_its_list_and_not_a_bullet() -> None:
    criteria = parse_criteria(
        "Inclusion Criteria:\n\n"
        "* Adult\n\n"
        "Part A\n\n"
        "* Likes maps\n"
        "* Owns a compass:\n"
        "  * KIND OF COMPASS:\n"
        "    * Magnetic\n\n"
        "Inclusion criteria for part B:\n\n"
        "* Owns a tent\n"
    )

    html = render(criteria.inclusion)
    texts = outline(html)

    assert texts["Adult"] == ["ul", "li"]
    assert texts["Part A"] == ["h4"]
    assert texts["Likes maps"] == ["ul", "li"]
    assert texts["KIND OF COMPASS"] == ["ul", "li", "h5"]
    assert texts["Magnetic"] == ["ul", "li", "ul", "li"]
    assert texts["Inclusion criteria for part B"] == ["h4"]
    assert texts["Owns a tent"] == ["ul", "li"]
    assert html.count('class="criteria-heading"') == 3
    # The list before the heading is closed and a new one follows it.
    assert re.search(r"</ul> <h4 class=\"criteria-heading\">Part A</h4> <ul>", html)


def test_a_list_without_headings_is_one_list() -> None:
    html = render(parse_criteria("Inclusion Criteria:\n\n* Adult\n* Owns a hat\n").inclusion)

    assert html == "<ul> <li>Adult</li> <li>Owns a hat</li> </ul>"
