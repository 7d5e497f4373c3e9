"""Split ClinicalTrials.gov free-text eligibility criteria into inclusion and exclusion lists.

Owns the reading of `protocolSection.eligibilityModule.eligibilityCriteria`, nothing about
how a study page shows the result. The text is loosely markdown and written by hand, so the
parser is forgiving and never raises; whatever it cannot place goes to `other`, so no text
is ever lost except heading lines and lines that only introduce a list.

A `Criterion` is an item or, with `heading` set, the title of a group: its children are the
items the heading holds, and a page shows it as a heading, never as a bullet. Headings lose
a trailing colon.

Rules, line by line:

* Headings. A line such as "Inclusion Criteria:", "KEY EXCLUSION CRITERIA", "Inclusion
  criteria -", "Inclusion:", "* Exclusion Criteria:" or "Inclusion criteria. Age 18+" starts
  a section; text after its colon (or full stop) is read as the section's first line. A
  heading with a real qualifier ("Inclusion criteria for part B:", "Radiological exclusion
  criteria") also starts its section, but as a heading that holds everything after it up to
  the next heading or sub-header, so the qualifier is kept. Bare wording such as "Key",
  "Patient", "General" or "Other" is not a qualifier. "Inclusion and exclusion criteria:"
  leads to `other`, and "Eligibility criteria:" is treated like the start of the text (see
  below). A plain heading that names the open section while a group is open ("Other
  Inclusion Criteria" after "Part B:") starts a group of its own instead, so that its items
  are not read as part of that group.
* Sub-headers: lines that name a group of criteria rather than state one. A group's name
  ("Part A", "Cohort 1 and 2:", "Part 2 only", "Screening phase:"), a group of people ending
  with ":" ("For adolescent participants:"), a kind of criteria without figures
  ("Asthma-related criteria"), a short line in capitals that ends with ":" or stands alone
  before a list ("SMOKING CRITERIA:", "CONTROLS"), and a short unmarked title on a line of
  its own just before a list ("Medical Conditions"). None of them contains a verb such as
  "must" or "meets", nor ends like a lead-in ("Patients with"). A sub-header is a heading
  that holds everything after it, like a qualified heading, of which it is a peer; it may
  be indented under a numbered item ("2. ... / Asthma-related criteria / 3. ...") and still
  head what follows. Inside an item (its items indented under it, or the item holding it
  still open), a sub-header only heads its own sub-list or paragraphs. A sub-header directly
  followed by a section heading ("Cohort 2", then "Inclusion Criteria:") heads each section
  that follows, until the next such sub-header.
* Introductions. A paragraph such as "Participants are eligible only if all of the following
  criteria apply:" (or "... will be excluded if any of the following ...:") is a heading
  when no section is open or the open one was itself opened by an introduction, and is
  dropped when it restates the open section; otherwise it is an ordinary paragraph.
* Items. A line starting with a marker ("*", "-", "•", "+", "o", "1.", "1)", "(1)", "a.",
  "ii.", "①"...) starts an item. An item marked at a greater indentation than the open
  item is its child; so is an item with a different kind of marker at the same indentation
  when the open item ends with ":" ("1. Adequate organ function:" then "a. ..."). A numbered
  item that runs on to "2. ... 3. ..." in the same line is split into sibling items.
* Continuations. An item or paragraph that starts with "or", "and", "and/or", "or/and",
  "nor", "but", "as well as" or "plus" (in any case except "Plus", which may be a name; also
  after a leading ";" or ",") continues the sentence of the item before it at its level, to
  whose text it is added; a conjunction alone on a line ("OR" between two lists) ends the
  item before it. With no item before it, a sub-item continues the item that holds it.
* Paragraphs. An unmarked line that directly follows a line of text continues it (joined
  with one space); after a blank line it continues the open item when indented under it,
  or when it starts in lower case, and otherwise it is an item of its own. Nothing continues
  a heading's title. A paragraph that ends with ":" ("Hepatic:") holds the marked items that
  follow it, until the next paragraph or heading; when it is a short name of at most four
  words ("Hepatic:", "Non-smokers:", not "These include:"), it is their heading.
* Text before the first heading goes to `other`, except that it is read as inclusion
  criteria when the only headings are exclusion headings (a list of requirements followed
  by "Exclusion Criteria:"). With no heading at all everything is in `other`.
* A section written as one run-on sentence "a; b; c" becomes the items a, b and c, when at
  least three parts remain after each part that starts with a continuation ("; or ...") is
  kept with the part before it.
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
    """One eligibility item and its sub-items; a heading is the title of the group it holds."""

    text: str
    children: tuple[Criterion, ...] = ()
    heading: bool = False


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

# "or have medically confirmed ovarian failure", "; and/or prednisone", "AND not a candidate".
# "Plus" only in lower case: capitalised, it may name something ("Plus Medical Device").
_CONTINUATION = re.compile(
    r"[,;:.\u2026\u2013\u2014-]*\s*"
    r"(?:(?i:and\s*/\s*or|or\s*/\s*and|as\s+well\s+as|and|or|nor|but)|plus)\b"
)
# Sub-headers: lines that name a group of criteria ("Part A", "Cohort 1 and 2:", "Part 2 only",
# "For adolescent participants:", "SMOKING CRITERIA:", "Asthma-related criteria").
_GROUP_WORD = r"(?:part|cohort|arm|group|phase|step|period|stratum|sub-?study|module|panel)s?"
_GROUP_ID = r"(?-i:[0-9]{1,2}[A-Za-z]?|[A-Z][0-9]{0,2}|[IVX]{1,4}[ab]?)"
_GROUP_LABEL = re.compile(
    rf"""
    (?:(?:for|in)\s+)?(?:(?:the|all)\s+)?(?P<adjective>[^\W\d_][\w-]*\s+)?
    {_GROUP_WORD}\s+{_GROUP_ID}
    (?:\s*(?:,|&|/|\+|-|\band\b|\bor\b|\bto\b)\s*(?:{_GROUP_WORD}\s+)?{_GROUP_ID})*
    (?:\s*\([^()]*\))?(?:\s+only)?(?:\s*\([^()]*\))?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_NAMED_GROUP = re.compile(rf"(?:[^\W\d_][\w-]*\s+){{1,2}}{_GROUP_WORD}", re.IGNORECASE)
_FOR_GROUP = re.compile(
    r"for\s.*\b(?:participants?|patients?|subjects?|volunteers?|adults?|child(?:ren)?|"
    r"adolescents?|parents?|caregivers?|wom[ae]n|m[ae]n|(?:fe)?males?|donors?|recipients?|"
    rf"controls?|{_GROUP_WORD})\b.*",
    re.IGNORECASE,
)
_CRITERIA_LABEL = re.compile(r"(?:[^\W\d_][\w/-]*\s+){0,3}criteri(?:a|on)", re.IGNORECASE)
_CAPS_LABEL = re.compile(r"[^\W_][\w &/,()'\u2019+-]*")
_TITLE_LINE = re.compile(r"[^\W\d_][\w'\u2019/&-]*(?:\s+[\w'\u2019/&()-]+)*")
# Words after which a "... criteria" line is a sentence, not the name of a group.
_NOT_LABEL_WORDS = frozenset(
    {"following", "according", "to", "these", "those", "such", "entry", "all", "the", "of"}
)
# fmt: off
# Labels and title lines are names; these words make them the start of a sentence instead
# ("Patients with", "These include in particular:").
_LEAD_IN_END_WORDS = frozenset({
    "with", "of", "to", "for", "in", "as", "by", "from", "at", "on", "or", "and", "the", "a", "an",
    "either",
})
_LEAD_IN_WORDS = frozenset({
    "following", "follows", "include", "includes", "including", "these", "those", "this", "such",
    "below",
})
# fmt: on
_NUMBER = re.compile(r"(?<![^\W\d_])\d")
_COMPARISON = re.compile(r"[<>=%\u2264\u2265\u00b1\u00d7]")
_MAX_SUB_HEADER_WORDS = 10
_MAX_CAPS_LABEL_WORDS = 6
_MAX_TITLE_LINE_WORDS = 6
_MAX_LABEL_WORDS = 4
_MIN_RUN_ON_PARTS = 3

# The kinds of heading that hold groups: a block label (a sub-header that heads whole
# inclusion and exclusion sections, "Cohort 1") holds the others; a qualified section heading
# and a sub-header are peers, each ending the other's group.
_BLOCK, _SECTION_LABEL, _SUB_HEADER = 0, 1, 2


@dataclass
class _Node:
    parts: list[str]
    indent: int
    kind: str  # the marker's style; "" for a paragraph
    children: list[_Node] = field(default_factory=list)
    heading: bool = False

    def ends_with_colon(self) -> bool:
        return bool(self.parts) and self.parts[-1].rstrip().endswith(_COLONS)


@dataclass(frozen=True)
class _Heading:
    section: _Section
    label: str | None
    rest: str
    title: str = ""


def parse_criteria(text: str | None) -> Criteria:
    """Parse an `eligibilityCriteria` text; None or blank text gives empty criteria."""
    if not text or text.isspace():
        return _EMPTY
    parser = _Parser()
    lines = text.splitlines()
    following: list[str | None] = [None] * len(lines)
    upcoming: str | None = None
    for number in range(len(lines) - 1, -1, -1):
        following[number] = upcoming
        if lines[number].strip():
            upcoming = lines[number]
    for raw, after in zip(lines, following, strict=True):
        parser.feed(raw, after)
    return parser.result()


@dataclass(frozen=True)
class _Next:
    """What the next non-blank line starts: its indentation, a list item, a section heading."""

    indent: int
    marked: bool
    heading: bool


def _peek(raw: str | None) -> _Next | None:
    if raw is None:
        return None
    line = raw.expandtabs(_TAB_WIDTH)
    content = _ESCAPE.sub(r"\1", line.strip())
    marker = _MARKER.match(content)
    body = content[marker.end() :] if marker else content
    lowered = body.lower()
    heading = ("inclu" in lowered or "exclu" in lowered or "eligib" in lowered) and (
        _read_heading(body, marked=marker is not None) is not None
    )
    return _Next(len(line) - len(line.lstrip()), marker is not None and bool(body), heading)


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
        # Open headings that hold the items that follow them, outermost first, with their rank.
        self.groups: list[tuple[int, _Node]] = []
        self.block: str | None = None
        self.opened_by_intro = False
        self.stack: list[_Node] = []
        self.after_blank = True
        self.following: str | None = None

    def feed(self, raw: str, following: str | None = None) -> None:
        line = raw.expandtabs(_TAB_WIDTH)
        if "<!--" in line:
            line = _HTML_COMMENT.sub("", line)
        content = line.strip()
        if not content:
            self.after_blank = True
            return
        self.following = following
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
                if heading.label is None and heading.section == self.section and self._grouped():
                    # "Other Inclusion Criteria" after "Part B:" in the inclusion list: a new
                    # group, or its items would read as part of Part B.
                    self._open_group(heading.title, _SUB_HEADER)
                else:
                    self._open_section(heading)
                if heading.rest:
                    self.after_blank = True
                    self._line(indent, heading.rest)
                return
        if body.endswith(_COLONS) and self._is_intro(body, marker):
            return
        if self._sub_header(indent, marker, body):
            return
        if marker is not None:
            self._item(indent, marker, body)
        else:
            self._paragraph(indent, content)

    def _open_section(self, heading: _Heading, *, by_intro: bool = False) -> None:
        self._keep_block_label()
        self.stack.clear()
        self.groups.clear()
        self.section = heading.section
        self.opened_by_intro = by_intro
        if heading.section == "inclusion":
            self.saw_inclusion = True
        elif heading.section == "exclusion":
            self.saw_exclusion = True
        if self.block is not None:
            self._open_group(self.block, _BLOCK)
        if heading.label is not None:
            self._open_group(heading.label, _SECTION_LABEL)

    def _keep_block_label(self) -> None:
        """A sub-header directly followed by a section heading heads every section after it.

        "Cohort 2" then "Inclusion Criteria:" ... "Exclusion Criteria:" ...: both lists of the
        cohort get the heading, until the next such sub-header.
        """
        if not self.groups:
            return
        rank, group = self.groups[-1]
        if rank != _SUB_HEADER or group.children:
            return
        container = self.groups[-2][1].children if len(self.groups) > 1 else self._list()
        if container and container[-1] is group:
            container.pop()
            self.block = group.parts[0]

    def _grouped(self) -> bool:
        return any(rank != _BLOCK for rank, _ in self.groups)

    def _open_group(self, title: str, rank: int) -> None:
        # A sub-header is a peer of a qualified section heading ("Exclusion criteria disease
        # related", then "Other medical conditions"): only a block label holds either.
        while self.groups and self.groups[-1][0] != _BLOCK:
            self.groups.pop()
        group = _Node([title], indent=-1, kind="", heading=True)
        self._container().append(group)
        self.groups.append((rank, group))
        self.stack.clear()

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
        labelled = any(rank == _SECTION_LABEL for rank, _ in self.groups)
        if self.opened_by_intro or (self.section in ("pre", "other") and not labelled):
            self._open_section(_Heading(section, None, ""), by_intro=True)
            return True
        return False

    def _sub_header(self, indent: int, marker: re.Match[str] | None, body: str) -> bool:
        """Turn a line that names a group of criteria into a heading; False if it is none."""
        starts_paragraph = self.after_blank or not self.stack
        if marker is None and not starts_paragraph:
            return False  # a wrapped line of the open item
        if len(body.split()) > _MAX_SUB_HEADER_WORDS:
            return False
        upcoming = _peek(self.following)
        title = _sub_header_title(
            body,
            marked=marker is not None,
            before_list=upcoming is not None and (upcoming.marked or upcoming.heading),
            before_items=starts_paragraph and upcoming is not None and upcoming.marked,
        )
        if title is None:
            return False
        if marker is not None:
            node = _Node([title], indent=indent, kind=self._marker_kind(marker, indent))
            node.heading = True
            stack = self.stack
            while stack and not _holds(stack[-1], node, stack):
                stack.pop()
            if stack or (upcoming is not None and upcoming.indent > indent):
                # Inside an item, or with its items indented under it: an ordinary sub-list.
                self._siblings().append(node)
                stack.append(node)
                return True
        else:
            stack = self.stack
            while stack and stack[-1].indent >= indent:
                stack.pop()
            if stack and upcoming is not None and upcoming.indent > stack[-1].indent:
                node = _Node([title], indent=indent, kind="", heading=True)
                stack[-1].children.append(node)
                stack.append(node)
                return True
        self._open_group(title, _SUB_HEADER)
        return True

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
        if not self._join(node):
            self._siblings().append(node)
            stack.append(node)

    def _join(self, node: _Node) -> bool:
        """Add a continuation ("or ...", "AND ...") to the item it continues; False if none."""
        if not _CONTINUATION.match(node.parts[0]):
            return False
        target = _last_item(self._siblings())
        if target is None:
            # The first sub-item continues the sentence of the item that holds it.
            if not self.stack or self.stack[-1].heading:
                return False
            target = self.stack[-1]
        target.parts.extend(node.parts)
        if not self.stack or self.stack[-1] is not target:
            # Keep it open, so that wrapped lines and sub-items of the continuation follow it.
            self.stack.append(target)
        return True

    def _siblings(self) -> list[_Node]:
        if self.stack:
            return self.stack[-1].children
        return self._container()

    def _container(self) -> list[_Node]:
        if self.groups:
            return self.groups[-1][1].children
        return self._list()

    def _list(self) -> list[_Node]:
        return self.lists[self.section]

    def _paragraph(self, indent: int, content: str) -> None:
        stack = self.stack
        if stack and not self.after_blank and not stack[-1].heading:
            stack[-1].parts.append(content)
            return
        if stack and indent > 0:
            while stack and stack[-1].indent >= indent and not _heads(stack[-1], indent):
                stack.pop()
            if stack and not stack[-1].heading:
                stack[-1].parts.append(content)
                return
        elif stack and stack[-1].kind and content[0].islower():
            stack[-1].parts.append(content)
            return
        while stack and stack[-1].indent >= indent and not _heads(stack[-1], indent):
            stack.pop()
        node = _Node([content], indent=indent, kind="")
        if not self._join(node):
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


def _last_item(nodes: list[_Node]) -> _Node | None:
    """The item a continuation follows in reading order: inside a heading, its last item."""
    while nodes:
        last = nodes[-1]
        if not (last.heading and last.children):
            return last
        nodes = last.children
    return None


def _heads(node: _Node, indent: int) -> bool:
    """Whether `node` is a sub-header line whose paragraphs start at its own column."""
    return node.heading and not node.kind and node.indent == indent


def _holds(parent: _Node, item: _Node, stack: list[_Node]) -> bool:
    """Whether the open `parent` takes the new `item` as a sub-item."""
    if item.indent != parent.indent:
        return item.indent > parent.indent
    if parent.heading and not parent.kind:
        return not item.heading
    if not parent.ends_with_colon():
        return False
    if not parent.kind:
        return True
    # "1. Adequate organ function:" then "a. ..." at the same column: a sub-list, unless
    # the new marker's style is that of a list already open at this column.
    return all(n.kind != item.kind for n in stack if n.indent == item.indent)


def _sub_header_title(
    body: str, *, marked: bool, before_list: bool, before_items: bool
) -> str | None:
    """The title of a line that names a group of criteria, or None for any other line.

    `before_list`: the next line is an item or a section heading; `before_items`: this line
    starts a paragraph and the next line is an item.
    """
    colon = body.endswith(_COLONS)
    title = body[:-1].rstrip() if colon else body
    words = _words(title)
    if (
        not words
        or len(title.split()) > _MAX_SUB_HEADER_WORDS
        or _NOT_HEADING_WORDS.intersection(words)
        or _COMPARISON.search(title)
        or _CONTINUATION.match(title)  # "OR" between two lists continues the item before it
    ):
        return None
    group = _GROUP_LABEL.fullmatch(title)
    if group is not None and (colon or not group["adjective"]):
        return title  # "Part A", "Cohort 1 and 2", "Part 2 only", "Dose escalation part 1:"
    if colon and (_NAMED_GROUP.fullmatch(title) or _FOR_GROUP.fullmatch(title)):
        return title  # "Screening phase:", "For adolescent participants:"
    if not _is_name(words):
        return None
    number = _NUMBER.search(title) is not None
    if _CRITERIA_LABEL.fullmatch(title):
        # "Asthma-related criteria", but not "... according to ICHD-3 criteria".
        return None if number or _NOT_LABEL_WORDS.intersection(words) else title
    if _is_caps_label(title) and (colon or (not marked and before_list and not number)):
        return title  # "SMOKING CRITERIA:", "PRIOR TO STEP 1 REGISTRATION:", "CONTROLS"
    if (
        before_items
        and not (marked or colon or number)
        and len(words) <= _MAX_TITLE_LINE_WORDS
        and title[0].isupper()
        and _TITLE_LINE.fullmatch(title)
    ):
        return title  # "Medical Conditions" on a line of its own before a list
    return None


def _is_caps_label(title: str) -> bool:
    letters = [c for c in title if c.isalpha()]
    return (
        len(letters) >= 4
        and all(c.isupper() for c in letters)
        and len(title.split()) <= _MAX_CAPS_LABEL_WORDS
        and _CAPS_LABEL.fullmatch(title) is not None
    )


def _is_label(text: str) -> bool:
    """A short paragraph such as "Hepatic:" or "Asthmatics:" that names the list it holds."""
    if not text.endswith(_COLONS) or _COMPARISON.search(text) or _NUMBER.search(text):
        return False
    words = _words(_PARENTHETICAL.sub(" ", text[:-1]))
    return (
        0 < len(words) <= _MAX_LABEL_WORDS
        and not _NOT_HEADING_WORDS.intersection(words)
        and _is_name(words)
    )


def _is_name(words: list[str]) -> bool:
    """Whether lower-cased words read as a name rather than as the start of a sentence."""
    return words[-1] not in _LEAD_IN_END_WORDS and not _LEAD_IN_WORDS.intersection(words)


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
    title = body[: match.start("term")].strip()
    return _Heading(section, None if plain else title, match["rest"].strip(), title)


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
    """A section written as one sentence of "a; b; c" reads better as a list of a, b, c.

    A part that continues the one before it ("...; or b") stays with it.
    """
    if len(items) != 1 or items[0].children or items[0].text.count("; ") < 2:
        return items
    parts: list[str] = []
    for part in items[0].text.split("; "):
        part = part.strip()
        if parts and _CONTINUATION.match(part):
            parts[-1] += "; " + part
        elif part:
            parts.append(part)
    if len(parts) < _MIN_RUN_ON_PARTS:
        return items
    return tuple(Criterion(part) for part in parts)


def _criteria(nodes: list[_Node]) -> Iterator[Criterion]:
    for node in nodes:
        text = " ".join(" ".join(node.parts).split())
        children = _freeze(node.children)
        heading = node.heading or (not node.kind and bool(children) and _is_label(text))
        if heading:
            text = text.rstrip(":\uff1a").rstrip()
        if text:
            yield Criterion(text, children, heading)
        else:
            yield from children
