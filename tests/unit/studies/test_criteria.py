"""Tests for app.studies.criteria: eligibility text split into inclusion/exclusion lists.

Every fixture here is invented; the real ClinicalTrials.gov records are only read from the
shared data folder outside the repository, never copied into it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.studies.criteria import Criteria, Criterion, parse_criteria


def c(text: str, *children: Criterion) -> Criterion:
    return Criterion(text, tuple(children))


def texts(items: tuple[Criterion, ...]) -> list[str]:
    return [item.text for item in items]


def walk(items: tuple[Criterion, ...]) -> Iterator[Criterion]:
    for item in items:
        yield item
        yield from walk(item.children)


def all_criteria(criteria: Criteria) -> Iterator[Criterion]:
    for items in (criteria.inclusion, criteria.exclusion, criteria.other):
        yield from walk(items)


# --- empty input ----------------------------------------------------------------------


@pytest.mark.parametrize("text", [None, "", "   ", "\n\n \t\n"])
def test_none_and_blank_text_give_empty_criteria(text: str | None) -> None:
    criteria = parse_criteria(text)

    assert criteria == Criteria((), (), ())
    assert criteria.is_empty


def test_headings_without_items_give_empty_criteria() -> None:
    criteria = parse_criteria("Inclusion Criteria:\n\nExclusion Criteria:\n\n-\n")

    assert criteria.is_empty


def test_is_empty_is_false_when_any_list_has_items() -> None:
    assert not Criteria((), (), (c("x"),)).is_empty
    assert not Criteria((c("x"),), (), ()).is_empty


# --- list forms -----------------------------------------------------------------------


def test_bulleted_lists_under_both_headings() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Adults aged 18 to 70\n"
        "* Diagnosed with plantar wartiness\n\n"
        "Exclusion Criteria:\n\n"
        "* Pregnant or breastfeeding\n"
        "* Allergy to moon dust\n"
    )

    criteria = parse_criteria(text)

    assert criteria == Criteria(
        inclusion=(c("Adults aged 18 to 70"), c("Diagnosed with plantar wartiness")),
        exclusion=(c("Pregnant or breastfeeding"), c("Allergy to moon dust")),
        other=(),
    )


def test_numbered_lists_in_every_style() -> None:
    text = (
        "Inclusion Criteria:\n"
        "1. First numbered item\n"
        "2) Second numbered item\n"
        "(3) Third numbered item\n"
        "Exclusion Criteria:\n"
        "a. Lettered item\n"
        "b) Another lettered item\n"
        "ii. Roman item\n"
        "10.No space after the number\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [
        "First numbered item",
        "Second numbered item",
        "Third numbered item",
    ]
    assert texts(criteria.exclusion) == [
        "Lettered item",
        "Another lettered item",
        "Roman item",
        "No space after the number",
    ]


def test_mixed_bullet_characters_are_siblings() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Star item\n"
        "- Dash item\n"
        "• Dot item\n"
        "+ Plus item\n"
        "•Dot item without a space\n"
        "1. Numbered item\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [
        "Star item",
        "Dash item",
        "Dot item",
        "Plus item",
        "Dot item without a space",
        "Numbered item",
    ]
    assert all(not item.children for item in criteria.inclusion)


def test_nested_sub_lists_two_levels_deep_stay_under_their_parents() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Adequate organ function:\n\n"
        "  * Kidneys:\n"
        "    * Creatinine below 2 snorks\n"
        "    * No dialysis\n"
        "  * Liver within normal limits\n"
        "* Able to hop on one foot\n\n"
        "Exclusion Criteria:\n\n"
        "1. Prior treatment with any of:\n\n"
        "   1. Glitter therapy\n"
        "   2. Moonlight baths\n"
        "2. Fear of ducks\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c(
            "Adequate organ function:",
            c("Kidneys:", c("Creatinine below 2 snorks"), c("No dialysis")),
            c("Liver within normal limits"),
        ),
        c("Able to hop on one foot"),
    )
    assert criteria.exclusion == (
        c("Prior treatment with any of:", c("Glitter therapy"), c("Moonlight baths")),
        c("Fear of ducks"),
    )


def test_a_different_marker_after_a_colon_starts_a_sub_list_at_the_same_column() -> None:
    text = (
        "Inclusion Criteria:\n"
        "1. Lab values as follows:\n"
        "a. Sparkle count above 3\n"
        "b. Glow index below 7\n"
        "2. Signed consent\n"
        "3. Owns a hat\n"
        "- even on Sundays\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c("Lab values as follows:", c("Sparkle count above 3"), c("Glow index below 7")),
        c("Signed consent"),
        c("Owns a hat"),
        c("even on Sundays"),
    )


def test_a_label_paragraph_holds_the_list_that_follows_it() -> None:
    text = (
        "Hepatic:\n\n"
        "* Bilirubin normal\n"
        "* No jaundice\n\n"
        "Renal:\n\n"
        "* Creatinine normal\n\n"
        "A closing remark.\n"
    )

    criteria = parse_criteria(text)

    assert criteria.other == (
        c("Hepatic:", c("Bilirubin normal"), c("No jaundice")),
        c("Renal:", c("Creatinine normal")),
        c("A closing remark."),
    )


def test_numbers_running_on_in_one_line_are_split_into_items() -> None:
    text = (
        "Inclusion Criteria:1. Aged 18 or over 2. Owns a bicycle 3. Lives near a lake\n"
        "Exclusion Criteria:\n"
        "1. Grade 1 or 2. Tolerates mild fog\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == ["Aged 18 or over", "Owns a bicycle", "Lives near a lake"]
    assert texts(criteria.exclusion) == ["Grade 1 or 2. Tolerates mild fog"]


# --- text shape -----------------------------------------------------------------------


def test_wrapped_lines_join_their_item_with_one_space() -> None:
    text = (
        "Inclusion Criteria:\n"
        "* A long requirement that wraps\n"
        "  onto a second line\n"
        "and a third line\n"
        "* Short one\n\n"
        "  Indented note after a blank line.\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [
        "A long requirement that wraps onto a second line and a third line",
        "Short one Indented note after a blank line.",
    ]


def test_unmarked_paragraphs_are_items_of_their_own() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "Adults who enjoy   gardening.\n\n"
        "Able to    whistle.\n\n"
        "* A bulleted item\n\n"
        "which continues in lower case.\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [
        "Adults who enjoy gardening.",
        "Able to whistle.",
        "A bulleted item which continues in lower case.",
    ]


def test_markdown_escapes_are_undone() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Age \\>= 18 and \\< 65\n"
        "* Score \\> 3 \\[see note\\] \\*\n"
        "* 2\\. Escaped number after a bullet\n"
        "\\- Escaped dash used as a bullet\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [
        "Age >= 18 and < 65",
        "Score > 3 [see note] *",
        "Escaped number after a bullet",
        "Escaped dash used as a bullet",
    ]


def test_empty_items_are_dropped_and_their_sub_items_kept() -> None:
    text = "Exclusion Criteria:\n\n*\n  * Orphan sub-item\n-\n* Real item\n<!-- -->\n2.\n"

    criteria = parse_criteria(text)

    assert criteria.exclusion == (c("Orphan sub-item"), c("Real item"))


# --- headings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inclusion_heading", "exclusion_heading"),
    [
        ("INCLUSION CRITERIA", "EXCLUSION CRITERIA"),
        ("Inclusion Criteria", "Exclusion Criteria"),
        ("Key Inclusion Criteria:", "Key Exclusion Criteria:"),
        ("Inclusion criteria -", "Exclusion criteria -"),
        ("Inclusion criteria: -", "Exclusion criteria:-"),
        ("Inclusion:", "Exclusion:"),
        ("* Inclusion Criteria:", "* Exclusion Criteria:"),
        ("1) Inclusion Criteria", "2) Exclusion Criteria"),
        (
            "Inclusion Criteria (all of the following):",
            "Exclusion Criteria (any of the following):",
        ),
        ("Patient Inclusion Criteria:", "General Exclusion Criteria :"),
        ("    Inclusion Criteria:", "      Exclusion Criteria:"),
    ],
)
def test_heading_forms(inclusion_heading: str, exclusion_heading: str) -> None:
    text = f"{inclusion_heading}\n\n* Likes tea\n\n{exclusion_heading}\n\n* Dislikes tea\n"

    criteria = parse_criteria(text)

    assert criteria == Criteria(
        inclusion=(c("Likes tea"),), exclusion=(c("Dislikes tea"),), other=()
    )


def test_text_after_a_heading_on_the_same_line_is_the_first_item() -> None:
    text = (
        "Inclusion Criteria: Adults who own a kite\n"
        "* Can fly it\n"
        "Exclusion Criteria: none\n"
        "INCLUSION CRITERIA. Second section sentence.\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [
        "Adults who own a kite",
        "Can fly it",
        "Second section sentence.",
    ]
    assert texts(criteria.exclusion) == ["none"]


def test_a_heading_line_is_never_an_item() -> None:
    text = (
        "Inclusion Criteria:\n\n* Inclusion criteria:\n\n  1. Nested under a repeated heading\n\n"
        "Exclusion Criteria:\n\nExclusion criteria:\n\n1. Listed after a repeated heading\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == ["Nested under a repeated heading"]
    assert texts(criteria.exclusion) == ["Listed after a repeated heading"]
    assert not any("criteria" in item.text.lower() for item in all_criteria(criteria))


def test_sentences_mentioning_criteria_stay_items() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Inclusion criteria is willingness to take part\n"
        "* Other protocol-defined inclusion/exclusion criteria apply.\n\n"
        "Exclusion Criteria:\n\n"
        "* Patients who do not fulfil the inclusion criteria\n"
        "* Any inclusion criteria not met\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [
        "Inclusion criteria is willingness to take part",
        "Other protocol-defined inclusion/exclusion criteria apply.",
    ]
    assert texts(criteria.exclusion) == [
        "Patients who do not fulfil the inclusion criteria",
        "Any inclusion criteria not met",
    ]


def test_qualified_headings_keep_their_qualifier_as_a_parent_item() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Shared requirement\n\n"
        "Inclusion criteria for Part B:\n\n"
        "* Has a pet\n"
        "* Walks it daily\n\n"
        "Exclusion Criteria:\n\n"
        "* Shared exclusion\n\n"
        "Radiological exclusion criteria\n\n"
        "1. Unusual shadows\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c("Shared requirement"),
        c("Inclusion criteria for Part B", c("Has a pet"), c("Walks it daily")),
    )
    assert criteria.exclusion == (
        c("Shared exclusion"),
        c("Radiological exclusion criteria", c("Unusual shadows")),
    )


def test_a_heading_in_the_middle_of_a_line_starts_its_section() -> None:
    text = "Inclusion Criteria:\n\n* Owns boots - Exclusion Criteria: 1. Fear of rain\n"

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == ["Owns boots"]
    assert texts(criteria.exclusion) == ["Fear of rain"]


# --- missing or unusual headings --------------------------------------------------------


def test_no_headings_puts_everything_in_other() -> None:
    text = "* Adults\n* Non-smokers\n\nSome free text about the study.\n"

    criteria = parse_criteria(text)

    assert criteria == Criteria(
        inclusion=(),
        exclusion=(),
        other=(c("Adults"), c("Non-smokers"), c("Some free text about the study.")),
    )


def test_only_inclusion_heading() -> None:
    criteria = parse_criteria("Inclusion Criteria:\n\n1. Has a library card\n2. Reads daily\n")

    assert texts(criteria.inclusion) == ["Has a library card", "Reads daily"]
    assert criteria.exclusion == ()
    assert criteria.other == ()


def test_text_before_the_first_heading_goes_to_other() -> None:
    text = (
        "Study of cloud watching.\n\n"
        "Inclusion Criteria:\n\n* Looks up\n\n"
        "Exclusion Criteria:\n\n* Looks down\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.other) == ["Study of cloud watching."]
    assert texts(criteria.inclusion) == ["Looks up"]
    assert texts(criteria.exclusion) == ["Looks down"]


def test_a_list_before_a_lone_exclusion_heading_is_inclusion() -> None:
    text = "* Owns a canoe\n* Can swim\n\nExclusion Criteria:\n\n* Afraid of water\n"

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == ["Owns a canoe", "Can swim"]
    assert texts(criteria.exclusion) == ["Afraid of water"]
    assert criteria.other == ()


def test_an_introduction_with_no_heading_opens_its_section() -> None:
    text = (
        "Participants must meet all of the following criteria to participate:\n\n"
        "1. Plays chess\n\n"
        "Participants are excluded if any of the following apply:\n\n"
        "1. Flips the board\n"
    )

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == ["Plays chess"]
    assert texts(criteria.exclusion) == ["Flips the board"]
    assert criteria.other == ()


def test_an_introduction_restating_its_heading_is_dropped() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "Participants are eligible only if all of the following criteria apply:\n\n"
        "* Likes jazz\n\n"
        "Exclusion Criteria:\n\n"
        "Participants will not be eligible if any of the following criteria are met:\n\n"
        "* Hates jazz\n"
    )

    criteria = parse_criteria(text)

    assert criteria == Criteria(
        inclusion=(c("Likes jazz"),), exclusion=(c("Hates jazz"),), other=()
    )


def test_a_numbered_condition_that_mentions_eligibility_is_kept() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "1. Adult\n"
        "2. Owners of parrots are eligible only if they meet all the following criteria:\n\n"
        "   * Parrot is quiet\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c("Adult"),
        c(
            "Owners of parrots are eligible only if they meet all the following criteria:",
            c("Parrot is quiet"),
        ),
    )


def test_eligibility_heading_with_mixed_content_goes_to_other() -> None:
    text = "Inclusion and Exclusion Criteria:\n\n* Any adult who consents\n"

    criteria = parse_criteria(text)

    assert criteria == Criteria(inclusion=(), exclusion=(), other=(c("Any adult who consents"),))


# --- real records ------------------------------------------------------------------------

_REAL_HEADING = re.compile(
    r"^[^\w\n]*(?:key\s+)?(?P<kind>inclusion|exclusion)\s+criteria\s*[:.-]?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_LEADING_MARKER = re.compile(r"^\W*(?:\(?\w{1,4}[.)]\s)?")
_HEADING_PREFIX = re.compile(
    r"^(?:\S+\s+){0,5}?(?:inclusion|exclusion|eligibility)\b[^:.]{0,80}?(?:[:.]|$)",
    re.IGNORECASE,
)
_INLINE_HEADING = re.compile(r"[-\s]*\b(?:key\s+)?(?:inclusion|exclusion) criteria\s*:", re.I)
_INTRO_WORDS = re.compile(r"inclu|exclu|eligib|criteri|following|particip|enrol|entry", re.I)
_CHECKED_WORD = re.compile(r"[^\W\d_]{3,}")
_ESCAPE = re.compile(r"\\(.)")


def _sections_with_content(text: str) -> set[str]:
    """The heading kinds ("inclusion", "exclusion") followed by any word before the next."""
    found: set[str] = set()
    matches = list(_REAL_HEADING.finditer(text))
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(text)
        if re.search(r"[^\W_]", text[match.end() : end]):
            found.add(match["kind"].lower())
    return found


def _checked_words(line: str) -> list[str]:
    """Words of a source line that must reappear; heading and introduction words may not."""
    line = _ESCAPE.sub(r"\1", line)
    line = _LEADING_MARKER.sub("", line)
    line = _HEADING_PREFIX.sub("", line)
    line = _INLINE_HEADING.sub(" ", line)
    stripped = line.strip()
    if stripped.endswith(":") and _INTRO_WORDS.search(stripped) and len(stripped.split()) <= 25:
        return []
    return _CHECKED_WORD.findall(line)


def test_real_records_parse_without_losing_text(shared_studies: Path) -> None:
    with shared_studies.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    both_headings = 0
    problems: list[str] = []
    for record in records:
        protocol = record.get("protocolSection", {})
        nct_id = protocol.get("identificationModule", {}).get("nctId", "?")
        text = protocol.get("eligibilityModule", {}).get("eligibilityCriteria")
        criteria = parse_criteria(text)
        if not text:
            continue
        kinds = {m["kind"].lower() for m in _REAL_HEADING.finditer(text)}
        if kinds == {"inclusion", "exclusion"}:
            both_headings += 1
            with_content = _sections_with_content(text)
            if "inclusion" in with_content and not criteria.inclusion:
                problems.append(f"{nct_id}: inclusion list is empty")
            if "exclusion" in with_content and not criteria.exclusion:
                problems.append(f"{nct_id}: exclusion list is empty")
        output_words: set[str] = set()
        for item in all_criteria(criteria):
            output_words.update(_CHECKED_WORD.findall(item.text))
        for line in text.splitlines():
            missing = [w for w in _checked_words(line) if w not in output_words]
            if missing:
                problems.append(f"{nct_id}: lost {missing[:5]} from {line[:80]!r}")
    assert both_headings > 0
    assert problems == []


# --- robustness ---------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        "Inclusion Criteria:",
        "Exclusion Criteria: x",
        "Key inclusion criteria for part B:",
        "Eligibility:",
        "Participants must meet all of the following:",
        "* item",
        "  * sub",
        "    - subsub",
        "1. one 2. two 3. three",
        "(1) a",
        "a. b",
        "ii) c",
        "•",
        "-",
        "\\> \\< \\* \\",
        "Hepatic:",
        "wrapped text",
        "<!-- -->",
        "",
        "   ",
        "\t* tabbed",
    ]
)


def _assert_well_formed(criteria: Criteria) -> None:
    for item in all_criteria(criteria):
        assert item.text
        assert item.text == " ".join(item.text.split())


@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    _assert_well_formed(parse_criteria(text))


@settings(max_examples=300)
@given(st.lists(_FRAGMENTS | st.text(max_size=20), max_size=30).map("\n".join))
def test_criteria_like_text_never_raises(text: str) -> None:
    _assert_well_formed(parse_criteria(text))


def test_a_section_written_as_one_run_on_sentence_becomes_a_list() -> None:
    parsed = parse_criteria(
        "Inclusion Criteria: Adults over 40; able to walk 100 metres; a signed consent form.\n"
        "Exclusion Criteria: Recent surgery; another study.\n"
    )
    assert [i.text for i in parsed.inclusion] == [
        "Adults over 40",
        "able to walk 100 metres",
        "a signed consent form.",
    ]
    # Two parts are not enough to tell a list from one criterion with a semicolon.
    assert [i.text for i in parsed.exclusion] == ["Recent surgery; another study."]
