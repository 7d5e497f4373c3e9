"""The criteria checklist: the study's criteria lines, numbered, and the patient's answers.

Every inclusion, exclusion and other criteria line appears word for word, as the study
page's lists show it (app/studies/criteria.py), numbered from 1 in page order; headings
("Part A") are shown as headings, not asked about. The form's fields name lines by that
number: `answer-<n>` (yes, no or unsure) and `note-<n>`.

Answers are the patient's own reading: nothing here ever says "eligible" or "not eligible".
A summary only counts what was answered and points at the lines to ask about: every "No"
(on a "may join if" line) or "Yes" (on a "may not join if" line), and every "Not sure". A
Yes or No on a line of a listing without inclusion and exclusion headings cannot be
judged either way, and the summary says to talk those over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from app.studies.criteria import Criterion, parse_criteria
from app.studies.models import Study

Section = Literal["inclusion", "exclusion", "other"]
SECTION_TITLES: dict[Section, str] = {
    "inclusion": "You may be able to join if",
    "exclusion": "You may not be able to join if",
    "other": "Other details",
}
# The same sections named for a doctor or a study team, who read the patient's answers.
SECTION_NAMES: dict[Section, str] = {
    "inclusion": "Inclusion criteria",
    "exclusion": "Exclusion criteria",
    "other": "Other criteria",
}
ANSWERS = {"yes": "Yes", "no": "No", "unsure": "Not sure"}
MAX_NOTE = 2000
MAX_OVERALL_NOTE = 5000
MAX_QUOTES = 30
MAX_QUOTE = 1000
_FIELD = re.compile(r"(answer|note|quote|quote-note)-([1-9][0-9]{0,3})")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Line:
    """One criteria line to answer; `depth` 0 for a top-level item, 1 for a sub-item..."""

    n: int
    section: Section
    text: str
    depth: int


@dataclass(frozen=True)
class Heading:
    section: Section
    text: str
    depth: int


Entry = Line | Heading


@dataclass(frozen=True)
class Checklist:
    """A study's lines in page order, each section's entries apart (for its own heading)."""

    sections: dict[Section, list[Entry]]

    @property
    def lines(self) -> list[Line]:
        return [e for entries in self.sections.values() for e in entries if isinstance(e, Line)]

    def __len__(self) -> int:
        return len(self.lines)


def checklist(study: Study) -> Checklist:
    """The study's criteria as the study page lists them, each line numbered."""
    criteria = parse_criteria(study.eligibility_criteria)
    counter = iter(range(1, 100_000))
    sections: dict[Section, list[Entry]] = {}
    parts: tuple[tuple[Section, tuple[Criterion, ...]], ...] = (
        ("inclusion", criteria.inclusion),
        ("exclusion", criteria.exclusion),
        ("other", criteria.other),
    )
    for section, items in parts:
        entries = list(_walk(items, section, 0, counter))
        if entries:
            sections[section] = entries
    return Checklist(sections)


def _walk(
    items: tuple[Criterion, ...], section: Section, depth: int, counter: Iterator[int]
) -> Iterator[Entry]:
    for item in items:
        if item.heading:
            yield Heading(section, item.text, depth)
            yield from _walk(item.children, section, depth, counter)
        else:
            yield Line(next(counter), section, item.text, depth)
            yield from _walk(item.children, section, depth + 1, counter)


@dataclass(frozen=True)
class Quote:
    """A passage the patient selected on the study page, with their note on it."""

    text: str
    note: str


@dataclass
class Notes:
    """What the notes form carries: answers and notes by line number, quotes, overall note."""

    answers: dict[int, str] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)
    quotes: list[Quote] = field(default_factory=list)
    note: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.answers or any(self.notes.values()) or self.quotes or self.note)


@dataclass(frozen=True)
class Summary:
    answered: int
    total: int
    to_ask: list[Line]  # lines whose answer may not fit the study, or "Not sure"
    # Answered lines of a listing that does not say which lines allow joining and which rule
    # people out ("other"): no Yes or No there can be judged, so they are worth talking over.
    unsorted: int = 0


def clean_text(value: str, limit: int) -> str:
    """Free text as kept: control characters (but line breaks) out, ends trimmed, capped."""
    return CONTROL.sub("", value.replace("\r\n", "\n")).strip()[:limit]


def read_notes(data: Mapping[str, str], sheet: Checklist) -> tuple[Notes, dict[str, str]]:
    """The notes form's values for this checklist, and a message per field that was refused.

    Unknown line numbers and fields are ignored (a study re-imported while the page was
    open may have fewer lines); a value other than yes/no/unsure is refused, never guessed.
    Too-long text is cut to its limit and said so.
    """
    numbers = {line.n for line in sheet.lines}
    notes, errors = Notes(), {}
    quotes: dict[int, list[str]] = {}
    for name, value in data.items():
        match = _FIELD.fullmatch(name)
        if match is None:
            continue
        kind, n = match.group(1), int(match.group(2))
        if kind == "answer" and n in numbers:
            if value in ANSWERS:
                notes.answers[n] = value
            elif value:
                errors[name] = "Choose Yes, No or Not sure."
        elif kind == "note" and n in numbers and value.strip():
            if len(value) > MAX_NOTE:
                errors[name] = f"Notes are kept to {MAX_NOTE:,} characters: this one was cut."
            notes.notes[n] = clean_text(value, MAX_NOTE)
        elif kind in ("quote", "quote-note") and n <= MAX_QUOTES:
            pair = quotes.setdefault(n, ["", ""])
            pair[0 if kind == "quote" else 1] = clean_text(
                value, MAX_QUOTE if kind == "quote" else MAX_NOTE
            )
    notes.quotes = [Quote(q, note) for _, (q, note) in sorted(quotes.items()) if q]
    overall = data.get("note", "")
    if len(overall) > MAX_OVERALL_NOTE:
        errors["note"] = f"The note is kept to {MAX_OVERALL_NOTE:,} characters: it was cut."
    notes.note = clean_text(overall, MAX_OVERALL_NOTE)
    return notes, errors


@dataclass(frozen=True)
class Answered:
    """One answered line, as it goes into a site's email."""

    section: str  # the section's name for the study team, "Inclusion criteria"
    text: str
    answer: str  # "Yes", "No" or "Not sure"


def read_answers(data: Mapping[str, str], sheet: Checklist) -> dict[int, str]:
    """Only the answers (`answer-<n>`: yes, no or unsure) of the checklist's lines."""
    return read_notes(data, sheet)[0].answers


def answered(sheet: Checklist, answers: Mapping[int, str]) -> tuple[Answered, ...]:
    """The answered lines in page order, worded for a study team."""
    return tuple(
        Answered(SECTION_NAMES[line.section], line.text, ANSWERS[answers[line.n]])
        for line in sheet.lines
        if line.n in answers
    )


def to_ask(line: Line, answer: str | None) -> bool:
    """A line worth asking the study team about: an answer that may not fit, or "Not sure"."""
    if answer == "unsure":
        return True
    if line.section == "inclusion":
        return answer == "no"
    if line.section == "exclusion":
        return answer == "yes"
    return False


def summarise(sheet: Checklist, notes: Notes) -> Summary:
    lines = sheet.lines
    answered = sum(1 for line in lines if line.n in notes.answers)
    asks = [line for line in lines if to_ask(line, notes.answers.get(line.n))]
    unsorted = sum(
        1 for line in lines
        if line.section == "other" and notes.answers.get(line.n) in ("yes", "no")
    )  # fmt: skip
    return Summary(answered, len(lines), asks, unsorted)
