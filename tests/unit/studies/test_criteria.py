"""Tests for app.studies.criteria: eligibility text split into inclusion/exclusion lists.

Every fixture here is invented; the real ClinicalTrials.gov records are only read from the
shared data folder outside the repository, never copied into it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.studies.criteria import Criteria, Criterion, parse_criteria


def c(text: str, *children: Criterion) -> Criterion:
    return Criterion(text, tuple(children))


def h(title: str, *children: Criterion) -> Criterion:
    return Criterion(title, tuple(children), heading=True)


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


def test_a_label_paragraph_holds_the_list_that_follows_it_as_its_heading() -> None:
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
        h("Hepatic", c("Bilirubin normal"), c("No jaundice")),
        h("Renal", c("Creatinine normal")),
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


def test_qualified_headings_keep_their_qualifier_as_a_heading() -> None:
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
        h("Inclusion criteria for Part B", c("Has a pet"), c("Walks it daily")),
    )
    assert criteria.exclusion == (
        c("Shared exclusion"),
        h("Radiological exclusion criteria", c("Unusual shadows")),
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


# --- sentences kept whole -------------------------------------------------------------------


def test_an_item_starting_with_a_continuation_joins_the_item_before_it() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Owns a kayak\n"
        "* or a canoe\n"
        "* and/or a raft\n"
        "* Lives near water\n\n"
        "Exclusion Criteria:\n\n"
        "1. Sparkle count between 3 and 5;\n"
        "2. and glow index below 7;\n"
        "3. Fear of ducks\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c("Owns a kayak or a canoe and/or a raft"),
        c("Lives near water"),
    )
    assert criteria.exclusion == (
        c("Sparkle count between 3 and 5; and glow index below 7;"),
        c("Fear of ducks"),
    )


@pytest.mark.parametrize(
    "continuation",
    [
        "or",
        "OR",
        "Or,",
        "and",
        "AND",
        "And/or",
        "or/and",
        "nor",
        "but",
        "plus",
        "as well as",
        "; or",
        ", and",
    ],
)
def test_every_continuation_word_joins(continuation: str) -> None:
    text = f"Inclusion Criteria:\n\n* Likes tea\n* {continuation} coffee\n* Owns a mug\n"

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == [f"Likes tea {continuation} coffee", "Owns a mug"]


@pytest.mark.parametrize("word", ["Oral", "Andean", "Butterflies", "Nordic", "Ordinary", "Plus"])
def test_words_that_only_begin_like_a_continuation_start_items(word: str) -> None:
    criteria = parse_criteria(f"Inclusion Criteria:\n\n* Likes tea\n* {word} things\n")

    assert texts(criteria.inclusion) == ["Likes tea", f"{word} things"]


def test_a_conjunction_on_a_line_of_its_own_ends_the_item_before_it() -> None:
    text = "Inclusion Criteria:\n\n* New to hiking\n* Age over 60\n\nOR\n\n* Experienced hiker\n"

    criteria = parse_criteria(text)

    assert texts(criteria.inclusion) == ["New to hiking", "Age over 60 OR", "Experienced hiker"]


def test_a_continuation_after_a_sub_list_joins_the_item_at_its_level() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Tried these teas:\n\n"
        "  * Green tea\n"
        "  * Black tea\n\n"
        "AND still thirsty.\n\n"
        "* Owns a cup\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c("Tried these teas: AND still thirsty.", c("Green tea"), c("Black tea")),
        c("Owns a cup"),
    )


def test_a_first_sub_item_that_continues_joins_the_item_that_holds_it() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "1. Uses one of these alarms:\n\n"
        "   1. A rooster\n\n"
        "      * Or\n"
        "   2. A trumpet\n"
        "2. Sleeps at night\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c("Uses one of these alarms:", c("A rooster Or"), c("A trumpet")),
        c("Sleeps at night"),
    )


def test_a_run_on_section_keeps_its_continuations_with_the_part_before() -> None:
    parsed = parse_criteria(
        "Inclusion Criteria: Adults; or teenagers with consent; able to swim; owns goggles.\n"
        "Exclusion Criteria: Fear of water; or of fish; and of boats.\n"
    )

    assert texts(parsed.inclusion) == [
        "Adults; or teenagers with consent",
        "able to swim",
        "owns goggles.",
    ]
    # Continuations joined back leave one sentence, which is not a list.
    assert texts(parsed.exclusion) == ["Fear of water; or of fish; and of boats."]


# --- sub-headers ------------------------------------------------------------------------------


def test_group_names_become_headings_holding_the_items_after_them() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Adult\n\n"
        "Part A\n\n"
        "* Likes maps\n"
        "* Owns a compass\n\n"
        "Cohort 2 and 3 only:\n\n"
        "Has walked a mile.\n\n"
        "* Owns a tent\n\n"
        "Exclusion Criteria:\n\n"
        "For participants in the walking arm:\n\n"
        "* Sore feet\n\n"
        "SMOKING CRITERIA:\n\n"
        "* Smokes a pipe\n\n"
        "Asthma-related criteria\n\n"
        "* Wheezes\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c("Adult"),
        h("Part A", c("Likes maps"), c("Owns a compass")),
        h("Cohort 2 and 3 only", c("Has walked a mile."), c("Owns a tent")),
    )
    assert criteria.exclusion == (
        h("For participants in the walking arm", c("Sore feet")),
        h("SMOKING CRITERIA", c("Smokes a pipe")),
        h("Asthma-related criteria", c("Wheezes")),
    )


def test_a_marked_sub_header_holds_the_items_listed_after_it() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* PRIOR TO STEP 1 REGISTRATION:\n"
        "* Owns a hat\n"
        "* Owns a scarf\n"
        "* PRIOR TO STEP 2 REGISTRATION:\n"
        "* Wears them\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        h("PRIOR TO STEP 1 REGISTRATION", c("Owns a hat"), c("Owns a scarf")),
        h("PRIOR TO STEP 2 REGISTRATION", c("Wears them")),
    )


def test_a_sub_header_inside_an_item_heads_its_sub_list() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "* Adequate organ function:\n"
        "  * KIDNEY FUNCTION:\n"
        "    * Creatinine normal\n"
        "  * HEART FUNCTION:\n"
        "    * Pulse steady\n"
        "* Owns a bicycle\n"
        "* Rides it daily:\n"
        "  * Part A\n"
        "    1. In the morning\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c(
            "Adequate organ function:",
            h("KIDNEY FUNCTION", c("Creatinine normal")),
            h("HEART FUNCTION", c("Pulse steady")),
        ),
        c("Owns a bicycle"),
        c("Rides it daily:", h("Part A", c("In the morning"))),
    )


def test_a_title_line_before_a_list_is_a_heading_even_between_numbered_items() -> None:
    text = (
        "Exclusion Criteria:\n\n"
        "Medical Conditions\n\n"
        "1. Fear of ducks\n"
        "2. Fear of geese\n\n"
        "   Prior/Concomitant Therapy\n"
        "3. Goose therapy\n"
    )

    criteria = parse_criteria(text)

    assert criteria.exclusion == (
        h("Medical Conditions", c("Fear of ducks"), c("Fear of geese")),
        h("Prior/Concomitant Therapy", c("Goose therapy")),
    )


def test_a_sub_header_with_paragraphs_under_it_holds_them() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "1. Meets the criteria of one part:\n\n"
        "   Part 1:\n\n"
        "   Owns a violin.\n\n"
        "   Part 2:\n\n"
        "   Owns a cello.\n"
        "2. Practises daily\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        c(
            "Meets the criteria of one part:",
            h("Part 1", c("Owns a violin.")),
            h("Part 2", c("Owns a cello.")),
        ),
        c("Practises daily"),
    )


def test_a_sub_header_just_before_section_headings_heads_each_of_them() -> None:
    text = (
        "Cohort 1\n\n"
        "Inclusion Criteria:\n\n* Adult\n\n"
        "Exclusion Criteria:\n\n* Pregnant\n\n"
        "CONTROLS\n\n"
        "Inclusion Criteria:\n\n* Child\n\n"
        "Exclusion Criteria:\n\n* Allergic to fur\n"
    )

    criteria = parse_criteria(text)

    assert criteria == Criteria(
        inclusion=(h("Cohort 1", c("Adult")), h("CONTROLS", c("Child"))),
        exclusion=(h("Cohort 1", c("Pregnant")), h("CONTROLS", c("Allergic to fur"))),
        other=(),
    )


def test_a_sub_header_and_a_qualified_heading_are_peers() -> None:
    text = (
        "Exclusion criteria disease related\n\n"
        "* Sore knees\n\n"
        "Other Medical Conditions\n\n"
        "* Hay fever\n\n"
        "Exclusion criteria for part B:\n\n"
        "* Snores\n"
    )

    criteria = parse_criteria(text)

    assert criteria.exclusion == (
        h("Exclusion criteria disease related", c("Sore knees")),
        h("Other Medical Conditions", c("Hay fever")),
        h("Exclusion criteria for part B", c("Snores")),
    )


def test_a_plain_heading_after_a_group_starts_a_group_of_its_own() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "Part B:\n\n"
        "* Owns a kite\n\n"
        "Other Inclusion Criteria\n\n"
        "* Likes wind\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        h("Part B", c("Owns a kite")),
        h("Other Inclusion Criteria", c("Likes wind")),
    )


def test_short_label_paragraphs_are_headings_but_lead_ins_are_not() -> None:
    text = (
        "Inclusion Criteria:\n\n"
        "Smokers:\n\n"
        "* Smokes daily\n\n"
        "Patients with one of the following:\n\n"
        "* Hay fever\n\n"
        "These include in particular:\n\n"
        "* Sneezing\n\n"
        "Patients with\n\n"
        "* Sore eyes\n"
    )

    criteria = parse_criteria(text)

    assert criteria.inclusion == (
        h("Smokers", c("Smokes daily")),
        c("Patients with one of the following:", c("Hay fever")),
        c("These include in particular:", c("Sneezing")),
        c("Patients with"),
        c("Sore eyes"),
    )


@pytest.mark.parametrize(
    "line",
    [
        "* Enrolled in Cohort A",
        "* Completed Part 1",
        "* Stage IV",
        "* ECOG 0-1",
        "* COLD",
        "* ALT < 2.5 x ULN",
        "* Meets ICHD-3 criteria",
        "* Diagnosed according to the DSM criteria",
        "* Inclusion criteria is willingness to consent",
        "* For women of childbearing potential, a negative test",
        "Healthy volunteers aged 18 to 40",
    ],
)
def test_sentences_that_mention_groups_stay_items(line: str) -> None:
    criteria = parse_criteria(f"Inclusion Criteria:\n\n* Adult\n{line}\n* Owns a hat\n")

    assert not any(item.heading for item in all_criteria(criteria))
    assert len(texts(criteria.inclusion)) >= 2


def test_a_wrapped_line_that_names_a_group_continues_its_item() -> None:
    criteria = parse_criteria("Inclusion Criteria:\n\n* Must have been enrolled in\n  Cohort 2\n")

    assert criteria.inclusion == (c("Must have been enrolled in Cohort 2"),)


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
# An item that continues the sentence of the item before it.
_CONTINUATION_START = re.compile(
    r"[;,:.\u2026\u2013\u2014-]*\s*(?:and\s*/\s*or|or\s*/\s*and|as\s+well\s+as|and|or|nor|but|plus)\b",
    re.IGNORECASE,
)
# Lines that name a group of criteria rather than state one; checked with _SENTENCE_WORDS.
_GROUP_WORD = r"(?:part|cohort|arm|group|phase|step|period|sub-?study)s?"
_SUB_HEADER_SHAPES = (
    # A qualified section heading: "Inclusion Criteria for Healthy Volunteers".
    re.compile(
        r"(?:[\w/()-]+\s+){0,4}(?:inclusion|exclusion)\s+criteria(?:\s+[\w/(),-]+){0,8}:?", re.I
    ),
    # A group's name: "Part A", "Cohort 1 and 2:", "Part 2 only", "PART B:".
    re.compile(
        rf"(?i:(?:for\s+|in\s+)?(?:the\s+)?{_GROUP_WORD})\s+(?:[A-Z0-9]{{1,3}}|[IVX]+)"
        rf"(?:\s*(?i:and|&|,|/|or)\s*(?i:{_GROUP_WORD}\s+)?[A-Z0-9]{{1,3}})*"
        r"(?:\s*\([^()]*\))?(?i:\s+only)?:?"
    ),
    # A group of participants: "For adolescent participants:".
    re.compile(
        r"for\s+[\w\s(),/-]{0,60}\b(?:participants|patients|subjects|volunteers|cohort|part|arm"
        r"|group)\b[\w\s()-]{0,30}:",
        re.I,
    ),
    # A short line in capitals that ends with a colon: "DEMOGRAPHIC CRITERIA:" (not "T1DM:").
    re.compile(r"(?=.*[A-Z]{4})[A-Z][A-Z0-9 /&(),-]{3,50}:"),
    # A kind of criteria, without figures: "Asthma-related criteria", "Removing criteria:".
    re.compile(r"[^\W\d_][^\W\d_/-]*(?:[\s/-]+[^\W\d_]+){0,3}\s+criteri(?:a|on):?", re.I),
)
# fmt: off
_SENTENCE_WORDS = frozenset({
    "is", "are", "be", "been", "will", "must", "should", "may", "can", "not", "no", "any",
    "meet", "meets", "met", "meeting", "apply", "applies", "fulfil", "fulfill", "satisfy", "have",
    "has", "had", "who", "which", "that", "if", "per", "according", "following", "above",
    "below", "listed", "outlined",
})
# fmt: on


def _is_sub_header(text: str) -> bool:
    words = {w.lower() for w in re.findall(r"[^\W_]+", text)}
    return not words & _SENTENCE_WORDS and any(p.fullmatch(text) for p in _SUB_HEADER_SHAPES)


def _real_criteria(path: Path) -> Iterator[tuple[str, str]]:
    """(NCT ID, eligibility text) of every real record that has criteria."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            protocol = json.loads(line).get("protocolSection", {})
            text = protocol.get("eligibilityModule", {}).get("eligibilityCriteria")
            if text:
                yield protocol.get("identificationModule", {}).get("nctId", "?"), text


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
    both_headings = 0
    problems: list[str] = []
    for nct_id, text in _real_criteria(shared_studies):
        criteria = parse_criteria(text)
        kinds = {m["kind"].lower() for m in _REAL_HEADING.finditer(text)}
        if kinds == {"inclusion", "exclusion"}:
            both_headings += 1
            with_content = _sections_with_content(text)
            if "inclusion" in with_content and not criteria.inclusion:
                problems.append(f"{nct_id}: inclusion list is empty")
            if "exclusion" in with_content and not criteria.exclusion:
                problems.append(f"{nct_id}: exclusion list is empty")
        # Every word as often as the source has it (apart from heading and introduction
        # lines), so that joining continuations and moving sub-headers loses nothing.
        output_words: Counter[str] = Counter()
        for item in all_criteria(criteria):
            output_words.update(_CHECKED_WORD.findall(item.text))
        source_words: Counter[str] = Counter()
        for line in text.splitlines():
            source_words.update(_checked_words(line))
        missing = [w for w, n in source_words.items() if output_words[w] < n]
        if missing:
            problems.append(f"{nct_id}: lost {missing[:5]}")
    assert both_headings > 0
    assert problems == []


def test_real_records_keep_sentences_whole_and_show_sub_headers_as_headings(
    shared_studies: Path,
) -> None:
    headings = 0
    problems: list[str] = []
    for nct_id, text in _real_criteria(shared_studies):
        for item in all_criteria(parse_criteria(text)):
            if _CONTINUATION_START.match(item.text):
                problems.append(f"{nct_id}: item continues the one before: {item.text[:60]!r}")
            if item.heading:
                headings += 1
            elif _is_sub_header(item.text):
                problems.append(f"{nct_id}: sub-header shown as an item: {item.text[:60]!r}")
    assert headings > 0
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
