"""Split ClinicalTrials.gov free-text eligibility criteria into inclusion and exclusion lists.

Owns the reading of `protocolSection.eligibilityModule.eligibilityCriteria`, nothing about
how a study page shows the result. The text is loosely markdown and written by hand, so the
parser is forgiving and never raises; whatever it cannot place goes to `other`, so no text
is ever lost except heading lines and lines that only introduce a list.

Rules, line by line:

* Headings. A line such as "Inclusion Criteria:", "KEY EXCLUSION CRITERIA", "Inclusion
  criteria -", "Inclusion:", "* Exclusion Criteria:" or "Inclusion criteria. Age 18+" starts
  a section; text after its colon (or full stop) is read as the section's first line. A
  heading with a real qualifier ("Inclusion criteria for part B:", "Radiological exclusion
  criteria") also starts its section, but its items are nested under one item carrying the
  heading text, so the qualifier is kept. Bare wording such as "Key", "Patient", "General"
  or "Other" is not a qualifier. "Inclusion and exclusion criteria:" leads to `other`, and
  "Eligibility criteria:" is treated like the start of the text (see below).
* Introductions. A paragraph such as "Participants are eligible only if all of the following
  criteria apply:" (or "... will be excluded if any of the following ...:") is a heading
  when no section is open or the open one was itself opened by an introduction, and is
  dropped when it restates the open section; otherwise it is an ordinary paragraph.
* Items. A line starting with a marker ("*", "-", "•", "+", "o", "1.", "1)", "(1)", "a.",
  "ii.", "①"...) starts an item. An item marked at a greater indentation than the open
  item is its child; so is an item with a different kind of marker at the same indentation
  when the open item ends with ":" ("1. Adequate organ function:" then "a. ..."). A numbered
  item that runs on to "2. ... 3. ..." in the same line is split into sibling items.
* Paragraphs. An unmarked line that directly follows a line of text continues it (joined
  with one space); after a blank line it continues the open item when indented under it,
  or when it starts in lower case, and otherwise it is an item of its own. A paragraph that
  ends with ":" ("Hepatic:") holds the marked items that follow it, until the next
  paragraph or heading.
* Text before the first heading goes to `other`, except that it is read as inclusion
  criteria when the only headings are exclusion headings (a list of requirements followed
  by "Exclusion Criteria:"). With no heading at all everything is in `other`.
* Markdown escapes (``\\>``, ``\\<``, ``\\*``, ``\\[``...) are undone, HTML comments are
  removed, whitespace is collapsed, and items left without text are dropped (their
  sub-items move up).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

_Section = Literal["pre", "inclusion", "exclusion", "other"]


@dataclass(frozen=True)
class Criterion:
    """One eligibility item and its sub-items."""

    text: str
    children: tuple[Criterion, ...] = ()


@dataclass(frozen=True)
class Criteria:
    """The criteria of one study, in source order within each list."""

    inclusion: tuple[Criterion, ...]
    exclusion: tuple[Criterion, ...]
    other: tuple[Criterion, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.inclusion or self.exclusion or self.other)


_EMPTY = Criteria((), (), ())

_COLONS = (":", "\uff1a")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)")
_MARKER = re.compile(
    r"""
    (?:
        (?P<bullet>[-*+•·▪◦●■\u2013\u2014‣\u2043]{1,3}|o)(?:\s+|(?<=[•-])(?=[^\W\d_])|(?<!o)$)
      | \((?P<pnum>\d{1,3})\)\s*
      | (?P<num>\d{1,3})(?P<num_end>[.)])(?:\s+|(?=[^\W\d_])|$)
      | \((?P<palpha>[ivxIVX]{1,5}|[a-zA-Z])\)(?:\s+|$)
      | (?P<alpha>[ivxIVX]{2,5}|[a-zA-Z])(?P<alpha_end>[.)])(?:\s+|$)
      | (?P<circled>[\u2460-\u2473])\s*
    )
    """,
    re.VERBOSE,
)
_ROMAN = frozenset("ivxIVX")
_INLINE_NUMBER = re.compile(
    r"\s(?:\((?P<pnum>\d{1,2})\)|(?P<num>\d{1,2})(?P<end>[.)]))\s+(?=[^\W\d_])"
)
_MIN_INLINE_ITEMS = 3

# "... last inclusion item - Exclusion Criteria: 1. ..." all on one line.
_INLINE_HEADING = re.compile(
    r"(?:(?<=[.;])|\s[-\u2013•*])\s+(?=(?:Key\s+)?(?:Inclusion|Exclusion|INCLUSION|EXCLUSION)\s+"
    r"(?:Criteria|CRITERIA)\s*:)"
)
_HEADING = re.compile(
    r"""
    (?P<pre>(?:[^\s:\uff1a]+\s+){0,5}?)
    (?P<kind>(?:inclusions?|exclusions?)(?:\s*(?:and|&|/|or)\s*(?:inclusion|exclusion))?|eligibility)
    (?P<crit>\s+criteri(?:on|a)s?[a-z]?)?
    (?P<post>[^:\uff1a]*?)
    \s*(?P<term>[:\uff1a]\s*-?|\s[-\u2013]\s|[-\u2013]$|\.\s|\.$|$)
    (?P<rest>.*)
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_SECTION_NUMBER = re.compile(r"(?:\d+|[IVX]+)(?:\.\d+)+\.?\s+|[IVX]+\.\s+")
_PARENTHETICAL = re.compile(r"\([^()]*\)")
_WORD = re.compile(r"[^\W_]+(?:[-'\u2019][^\W_]+)*")
# fmt: off
# Words that make a line read as a sentence about criteria rather than as a heading.
_NOT_HEADING_WORDS = frozenset({
    "is", "are", "was", "were", "be", "been", "will", "would", "must", "should", "shall", "may",
    "can", "not", "no", "none", "any", "apply", "applies", "applied", "met", "meet", "meets",
    "meeting", "fulfil", "fulfill", "fulfils", "fulfills", "fulfilled", "fulfilling", "satisfy",
    "satisfies", "satisfied", "who", "which", "that", "see", "refer", "listed", "above", "below",
    "has", "have", "had", "do", "does", "did", "if", "unless", "than", "per", "outlined",
})
# Heading words that do not qualify a section ("Key Inclusion Criteria" is just inclusion).
_PLAIN_HEADING_WORDS = frozenset({
    "key", "main", "major", "general", "study", "patient", "patients", "subject", "subjects",
    "participant", "participants", "list", "of", "the", "other", "additional", "trial", "protocol",
    "principal", "and", "inclusion", "exclusion", "criteria", "criterion", "eligibility",
})
# fmt: on
_BOILERPLATE_PARENTHETICAL_WORDS = frozenset(
    {"all", "any", "of", "the", "following", "must", "be", "met", "apply"}
)
_MAX_HEADING_PRE_WORDS = 5
_MAX_HEADING_POST_WORDS = 8
_MAX_BARE_HEADING_PRE_WORDS = 4
_MAX_BARE_HEADING_POST_WORDS = 6

_INTRO_LIST = re.compile(
    r"\b(?:all|each|any)\b.*\bfollowing\b|\b(?:must|be)\s*[:\uff1a]$", re.IGNORECASE
)
_INTRO_TOPIC = re.compile(
    r"eligib|enrol|particip|\binclu(?:ded|sion)\b|\bexclu(?:ded|sion)\b|\bentry\b",
    re.IGNORECASE,
)
_INTRO_EXCLUSION = re.compile(
    r"\bexclu(?:ded|sion)\b|\bineligib|\bpreclud|\bnot\b.*\b(?:eligib|enrol|includ|particip)",
    re.IGNORECASE,
)
_MAX_INTRO_WORDS = 25

_TAB_WIDTH = 4


@dataclass
class _Node:
    parts: list[str]
    indent: int
    kind: str  # the marker's style; "" for a paragraph
    children: list[_Node] = field(default_factory=list)

    def ends_with_colon(self) -> bool:
        return bool(self.parts) and self.parts[-1].rstrip().endswith(_COLONS)


@dataclass(frozen=True)
class _Heading:
    section: _Section
    label: str | None
    rest: str


def parse_criteria(text: str | None) -> Criteria:
    """Parse an `eligibilityCriteria` text; None or blank text gives empty criteria."""
    if not text or text.isspace():
        return _EMPTY
    parser = _Parser()
    for raw in text.splitlines():
        parser.feed(raw)
    return parser.result()


class _Parser:
    def __init__(self) -> None:
        self.lists: dict[_Section, list[_Node]] = {
            "pre": [],
            "inclusion": [],
            "exclusion": [],
            "other": [],
        }
        self.section: _Section = "pre"
        self.saw_inclusion = False
        self.saw_exclusion = False
        self.base: _Node | None = None
        self.opened_by_intro = False
        self.stack: list[_Node] = []
        self.after_blank = True

    def feed(self, raw: str) -> None:
        line = raw.expandtabs(_TAB_WIDTH)
        if "<!--" in line:
            line = _HTML_COMMENT.sub("", line)
        content = line.strip()
        if not content:
            self.after_blank = True
            return
        if "\\" in content:
            content = _ESCAPE.sub(r"\1", content)
        indent = len(line) - len(line.lstrip())
        if "riteria" in content:
            first, *more = _INLINE_HEADING.split(content)
            self._line(indent, first)
            for part in more:
                self.after_blank = True
                self._line(indent, part)
        else:
            self._line(indent, content)
        self.after_blank = False

    def _line(self, indent: int, content: str) -> None:
        if not content:
            return
        marker = _MARKER.match(content)
        body = content[marker.end() :] if marker else content
        lowered = body.lower()
        if "inclu" in lowered or "exclu" in lowered or "eligib" in lowered:
            heading = _read_heading(body, marked=marker is not None)
            if heading is not None:
                self._open_section(heading)
                if heading.rest:
                    self.after_blank = True
                    self._line(indent, heading.rest)
                return
        if body.endswith(_COLONS) and self._is_intro(body, marker):
            return
        if marker is not None:
            self._item(indent, marker, body)
        else:
            self._paragraph(indent, content)

    def _open_section(self, heading: _Heading, *, by_intro: bool = False) -> None:
        self.stack.clear()
        self.section = heading.section
        self.opened_by_intro = by_intro
        if heading.section == "inclusion":
            self.saw_inclusion = True
        elif heading.section == "exclusion":
            self.saw_exclusion = True
        self.base = None
        if heading.label is not None:
            self.base = _Node([heading.label], indent=-1, kind="")
            self.lists[heading.section].append(self.base)

    def _is_intro(self, body: str, marker: re.Match[str] | None) -> bool:
        """Consume a sentence that only introduces the list of the section it names."""
        if marker is not None and (not marker.group("bullet") or self.stack or self._siblings()):
            return False
        if not _is_intro_sentence(body):
            return False
        section: _Section = "exclusion" if _INTRO_EXCLUSION.search(body) else "inclusion"
        if self.section == section:
            self.stack.clear()
            return True
        if self.opened_by_intro or (self.section in ("pre", "other") and self.base is None):
            self._open_section(_Heading(section, None, ""), by_intro=True)
            return True
        return False

    def _item(self, indent: int, marker: re.Match[str], body: str) -> None:
        kind = self._marker_kind(marker, indent)
        if marker.group("bullet"):
            inner = _MARKER.match(body)
            if inner is not None and (inner.group("num") or inner.group("pnum")):
                marker, body = inner, body[inner.end() :]
        parts = [body]
        number = _marker_number(marker)
        if number is not None and " " in body:
            parts = _split_inline(body, _marker_style(marker), number + 1)
        for part in parts:
            self._place(_Node([part], indent=indent, kind=kind))

    def _marker_kind(self, marker: re.Match[str], indent: int) -> str:
        if bullet := marker.group("bullet"):
            return "*" + bullet[0]
        if marker.group("pnum"):
            return "(1)"
        if end := marker.group("num_end"):
            return "1" + end
        if marker.group("circled"):
            return "①"
        letter = marker.group("palpha") or marker.group("alpha")
        wrap = "()" if marker.group("palpha") else marker.group("alpha_end")
        roman = all(c in _ROMAN for c in letter)
        if roman and len(letter) == 1:
            sibling = next((n for n in reversed(self.stack) if n.indent <= indent), None)
            if sibling is not None and sibling.indent == indent and sibling.kind.startswith("a"):
                roman = False
            elif sibling is None or not sibling.kind.startswith("i"):
                roman = letter in "iI"
        return ("i" if roman else "a") + wrap

    def _place(self, node: _Node) -> None:
        stack = self.stack
        while stack and not _holds(stack[-1], node, stack):
            stack.pop()
        self._siblings().append(node)
        stack.append(node)

    def _siblings(self) -> list[_Node]:
        if self.stack:
            return self.stack[-1].children
        if self.base is not None:
            return self.base.children
        return self.lists[self.section]

    def _paragraph(self, indent: int, content: str) -> None:
        stack = self.stack
        if stack and not self.after_blank:
            stack[-1].parts.append(content)
            return
        if stack and indent > 0:
            while stack and stack[-1].indent >= indent:
                stack.pop()
            if stack:
                stack[-1].parts.append(content)
                return
        elif stack and stack[-1].kind and content[0].islower():
            stack[-1].parts.append(content)
            return
        while stack and stack[-1].indent >= indent:
            stack.pop()
        node = _Node([content], indent=indent, kind="")
        self._siblings().append(node)
        stack.append(node)

    def result(self) -> Criteria:
        pre = self.lists["pre"]
        inclusion = self.lists["inclusion"]
        other = self.lists["other"]
        if pre:
            if self.saw_exclusion and not self.saw_inclusion:
                inclusion = pre + inclusion
            else:
                other = pre + other
        return Criteria(
            inclusion=_freeze(inclusion),
            exclusion=_freeze(self.lists["exclusion"]),
            other=_freeze(other),
        )


def _holds(parent: _Node, item: _Node, stack: list[_Node]) -> bool:
    """Whether the open `parent` takes the new `item` as a sub-item."""
    if item.indent != parent.indent:
        return item.indent > parent.indent
    if not parent.ends_with_colon():
        return False
    if not parent.kind:
        return True
    # "1. Adequate organ function:" then "a. ..." at the same column: a sub-list, unless
    # the new marker's style is that of a list already open at this column.
    return all(n.kind != item.kind for n in stack if n.indent == item.indent)


def _is_intro_sentence(body: str) -> bool:
    sentence = body[:-1]
    if any(colon in sentence for colon in _COLONS) or ". " in sentence:
        return False
    if len(sentence.split()) > _MAX_INTRO_WORDS:
        return False
    return bool(_INTRO_LIST.search(body) and _INTRO_TOPIC.search(sentence))


def _read_heading(body: str, *, marked: bool) -> _Heading | None:
    numbered = _SECTION_NUMBER.match(body)
    if numbered is not None:
        body = body[numbered.end() :]
    match = _HEADING.fullmatch(body)
    if match is None:
        return None
    pre = _words(match["pre"])
    post_text = match["post"]
    post = _words(_PARENTHETICAL.sub(" ", post_text))
    term = match["term"]
    has_colon = term.startswith(_COLONS)
    if _NOT_HEADING_WORDS.intersection(pre) or _NOT_HEADING_WORDS.intersection(post):
        return None
    if len(pre) > _MAX_HEADING_PRE_WORDS or len(post) > _MAX_HEADING_POST_WORDS:
        return None
    if not match["crit"] and not (has_colon and not pre and not post_text.strip()):
        return None
    if not has_colon:
        if marked and post_text.strip():
            return None
        if len(pre) > _MAX_BARE_HEADING_PRE_WORDS or len(post) > _MAX_BARE_HEADING_POST_WORDS:
            return None
    plain = (
        _PLAIN_HEADING_WORDS.issuperset(pre)
        and _PLAIN_HEADING_WORDS.issuperset(post)
        and _boilerplate_only(post_text)
    )
    kind = match["kind"].lower()
    named = kind + " " + " ".join(post)
    section: _Section
    if "inclu" in named and "exclu" in named:
        section = "other"
    elif kind.startswith("eligib"):
        # Like text before any heading: inclusion if only exclusion headings follow.
        section = "pre" if plain else "other"
    elif kind.startswith("inclu"):
        section = "inclusion"
    else:
        section = "exclusion"
    label = None if plain else body[: match.start("term")].strip()
    return _Heading(section, label, match["rest"].strip())


def _boilerplate_only(post_text: str) -> bool:
    return all(
        _BOILERPLATE_PARENTHETICAL_WORDS.issuperset(_words(p))
        for p in _PARENTHETICAL.findall(post_text)
    )


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _marker_number(marker: re.Match[str]) -> int | None:
    number = marker.group("num") or marker.group("pnum")
    return int(number) if number else None


def _marker_style(marker: re.Match[str]) -> str:
    return "()" if marker.group("pnum") else marker.group("num_end") or ""


def _split_inline(body: str, style: str, expected: int) -> list[str]:
    """Split "a 2. b 3. c" when the numbers run on in order; a lone "2." may end a sentence."""
    cuts: list[tuple[int, int]] = []
    for match in _INLINE_NUMBER.finditer(body):
        found_style = "()" if match["pnum"] else match["end"]
        if found_style == style and int(match["pnum"] or match["num"]) == expected:
            cuts.append((match.start(), match.end()))
            expected += 1
    if len(cuts) + 1 < _MIN_INLINE_ITEMS:
        return [body]
    parts: list[str] = []
    start = 0
    for cut_start, cut_end in cuts:
        parts.append(body[start:cut_start])
        start = cut_end
    parts.append(body[start:])
    return parts


def _freeze(nodes: list[_Node]) -> tuple[Criterion, ...]:
    return _split_run_on(tuple(_criteria(nodes)))


def _split_run_on(items: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
    """A section written as one sentence of "a; b; c" reads better as a list of a, b, c."""
    if len(items) != 1 or items[0].children or items[0].text.count("; ") < 2:
        return items
    parts = [part.strip() for part in items[0].text.split("; ")]
    return tuple(Criterion(part) for part in parts if part)


def _criteria(nodes: list[_Node]) -> Iterator[Criterion]:
    for node in nodes:
        text = " ".join(" ".join(node.parts).split())
        children = _freeze(node.children)
        if text:
            yield Criterion(text, children)
        else:
            yield from children
