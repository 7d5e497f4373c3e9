"""ClinicalTrials.gov's markdown, as a reader expects to see it, and safely.

Registry texts (summaries, detailed descriptions, intervention descriptions) are written
in a small markdown: `*` lists, `**bold**`, `*emphasis*`, and backslash escapes such as
`\\<50,000/μL` or `\\>= 18`. They are rendered with CommonMark (markdown-it-py) with raw
HTML turned off, so anything that looks like a tag is shown as text and no markup from a
record reaches the page; links keep only safe schemes (markdown-it refuses `javascript:`
and the like), and carry `rel="nofollow noopener"`.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    # Headings in a record would compete with the page's own; images load from elsewhere.
    parser.disable(["heading", "lheading", "image"])
    return parser


def to_html(text: str | None) -> Markup:
    """The text as safe HTML (paragraphs, lists, emphasis); empty for no text."""
    if not text or not text.strip():
        return Markup("")
    parser = _parser()
    tokens = parser.parse(text)
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                child.attrSet("rel", "nofollow noopener")
    html = parser.renderer.render(tokens, parser.options, {})
    return Markup(html)  # noqa: S704 - markdown-it escapes all text, and raw HTML is off
