"""The criteria checklist (app/studies/checklist.py): every line of the study page's lists,
word for word and numbered, and the reading of the notes form's fields.

Real records are read from the shared data folder, never copied into the repository.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from app.studies.checklist import (
    MAX_NOTE,
    MAX_QUOTES,
    Line,
    checklist,
    read_answers,
    read_notes,
    summarise,
    to_ask,
)
from app.studies.criteria import parse_criteria
from app.studies.models import Study
from app.templating import make_templates

LIST = make_templates().env.from_string(
    '{% from "_macros/criteria.html" import criteria_list %}'
    "{{ criteria_list(c.inclusion) }}{{ criteria_list(c.exclusion) }}{{ criteria_list(c.other) }}"
)
ITEM = re.compile(r"<li>([^<]*)")


def page_items(criteria_text: str | None) -> list[str]:
    """The text of every item of the study page's criteria lists, in page order."""
    rendered = LIST.render(c=parse_criteria(criteria_text))
    return [html.unescape(text) for text in ITEM.findall(rendered)]


def sheet_of(text: str | None) -> list[Line]:
    return checklist(Study(eligibility_criteria=text)).lines


def test_every_real_record_lists_each_line_of_its_study_page_word_for_word(
    shared_studies: Path,
) -> None:
    checked = lines_seen = 0
    with shared_studies.open() as records:
        for record in records:
            text = (
                json.loads(record)["protocolSection"]
                .get("eligibilityModule", {})
                .get("eligibilityCriteria")
            )
            lines = sheet_of(text)
            assert [line.text for line in lines] == page_items(text)
            assert [line.n for line in lines] == list(range(1, len(lines) + 1))
            checked += 1
            lines_seen += len(lines)
    assert checked == 940
    assert lines_seen > 10_000  # the check saw real lists, not empty ones


def test_headings_are_shown_not_asked_and_sub_items_are_lines_of_their_own() -> None:
    text = (
        "Inclusion Criteria:\n\nPart A:\n\n* Adults\n  * aged 18 to 65\n\n"
        "Exclusion Criteria:\n\n* Pregnancy"
    )
    sheet = checklist(Study(eligibility_criteria=text))
    inclusion = sheet.sections["inclusion"]
    assert [type(e).__name__ for e in inclusion] == ["Heading", "Line", "Line"]
    assert [(line.n, line.section, line.text, line.depth) for line in sheet.lines] == [
        (1, "inclusion", "Adults", 0),
        (2, "inclusion", "aged 18 to 65", 1),
        (3, "exclusion", "Pregnancy", 0),
    ]


def test_criteria_without_headings_are_other_lines_and_none_means_an_empty_sheet() -> None:
    assert [line.section for line in sheet_of("* Adults\n* Non-smokers")] == ["other", "other"]
    assert sheet_of(None) == []
    assert sheet_of("   ") == []


TEXT = "Inclusion Criteria:\n\n* Adults\n* Able to walk\n\nExclusion Criteria:\n\n* Pregnancy"


def test_the_form_is_read_strictly_and_never_guesses() -> None:
    sheet = checklist(Study(eligibility_criteria=TEXT))
    notes, errors = read_notes(
        {
            "answer-1": "yes",
            "answer-2": "maybe",  # refused, said
            "answer-3": "",  # not answered
            "answer-7": "no",  # no such line: ignored
            "answer-01": "no",  # not a field name of the form
            "note-1": "  walks daily \r\n ",
            "note-3": "x" * (MAX_NOTE + 5),
            "note": "over\x00all\x1b",
            "quote-2": "second",
            "quote-1": "first",
            "quote-note-1": "why",
            "quote-note-5": "a note without its passage",
            f"quote-{MAX_QUOTES + 1}": "one too many",
        },
        sheet,
    )
    assert notes.answers == {1: "yes"}
    assert errors == {
        "answer-2": "Choose Yes, No or Not sure.",
        "note-3": "Notes are kept to 2,000 characters: this one was cut.",
    }
    assert notes.notes == {1: "walks daily", 3: "x" * MAX_NOTE}
    assert notes.note == "overall"
    assert [(q.text, q.note) for q in notes.quotes] == [("first", "why"), ("second", "")]


def test_the_summary_counts_and_points_at_what_to_ask_never_at_eligibility() -> None:
    sheet = checklist(Study(eligibility_criteria=TEXT))
    notes, _ = read_notes({"answer-1": "yes", "answer-2": "no", "answer-3": "unsure"}, sheet)
    summary = summarise(sheet, notes)
    assert (summary.answered, summary.total) == (3, 3)
    assert [line.n for line in summary.to_ask] == [2, 3]
    inclusion, exclusion = sheet.lines[0], sheet.lines[2]
    assert to_ask(inclusion, "no")
    assert not to_ask(inclusion, "yes")
    assert to_ask(exclusion, "yes")
    assert not to_ask(exclusion, "no")
    assert to_ask(exclusion, "unsure")
    assert not to_ask(exclusion, None)


def test_read_answers_takes_only_answers_of_real_lines() -> None:
    sheet = checklist(Study(eligibility_criteria=TEXT))
    data = {"answer-1": "unsure", "answer-4": "yes", "note-1": "x", "answer-2": "YES"}
    assert read_answers(data, sheet) == {1: "unsure"}


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=20), st.text(max_size=300), max_size=30))
def test_any_form_is_read_without_raising(data: dict[str, str]) -> None:
    sheet = checklist(Study(eligibility_criteria=TEXT))
    notes, errors = read_notes(data, sheet)
    assert set(notes.answers) <= {1, 2, 3}
    assert all(value in ("yes", "no", "unsure") for value in notes.answers.values())
    assert len(notes.quotes) <= MAX_QUOTES
    assert all(isinstance(message, str) for message in errors.values())
