"""Normalisation: possessives and British spellings fold on both sides of search."""

from __future__ import annotations

import pytest

from app.studies.text import fold_spelling, normalize, search_text


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Crohn's disease", "crohn disease"),
        ("Alzheimer\u2019s", "alzheimer"),
        ("Graves' disease", "graves disease"),
        ("Guillain-Barré's", "guillain barre"),
        ("PARKINSON'S", "parkinson"),
        ("Crohn Disease", "crohn disease"),
    ],
)
def test_possessive_s_is_dropped_not_a_word(written: str, expected: str) -> None:
    assert search_text(written) == expected


@pytest.mark.parametrize(
    ("british", "american"),
    [
        # Written here as examples of each rule; the recall test measures the public set.
        ("haemorrhage", "hemorrhage"),
        ("oestrogen", "estrogen"),
        ("diarrhoea", "diarrhea"),
        ("dyspnoea", "dyspnea"),
        ("aetiology", "etiology"),
        ("orthopaedic", "orthopedic"),
        ("leucopenia", "leukopenia"),
        ("sulphonamide", "sulfonamide"),
        ("humour", "humor"),
        ("behavioural", "behavioral"),
        ("favourite", "favorite"),
        ("centres", "centers"),
        ("fibre", "fiber"),
        ("analogue", "analog"),
        ("programme", "program"),
        ("randomised", "randomized"),
        ("immunisation", "immunization"),
        ("paralysed", "paralyzed"),
        ("counselling", "counseling"),
        ("signalling", "signaling"),
        ("ageing", "aging"),
        ("aluminium", "aluminum"),
    ],
)
def test_british_spelling_folds_to_american(british: str, american: str) -> None:
    assert fold_spelling(british) == fold_spelling(american)


@pytest.mark.parametrize(
    "word",
    ["four", "your", "hour", "toe", "does", "shoes", "poet", "vertebrae", "filling", "disease"],
)
def test_words_that_only_look_british_keep_their_spelling(word: str) -> None:
    assert fold_spelling(word) == word


def test_plain_normalize_is_unchanged_for_site_keys() -> None:
    # Sites are recognised across imports by `normalize`; it must not fold.
    assert normalize("St Mary's Centre") == "st mary s centre"
