"""Tests for the demo generator's data files and their loading (app.demo.vocabulary)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.demo.vocabulary import (
    DATA_DIR,
    FILES,
    GENERATED_STATUSES,
    VocabularyError,
    load_vocabulary,
)
from app.studies.rules import STATUSES, age_in_years

Data = dict[str, Any]


def test_every_data_file_has_a_model_and_every_model_a_file() -> None:
    assert sorted(p.name for p in DATA_DIR.iterdir()) == sorted(FILES)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_data_file_loads(name: str) -> None:
    parsed = FILES[name].model_validate_json((DATA_DIR / name).read_text(encoding="utf-8"))
    assert parsed.about


def test_vocabulary_loads_once() -> None:
    vocabulary = load_vocabulary()
    assert load_vocabulary() is vocabulary
    assert len(vocabulary.conditions) > 80
    assert len(vocabulary.cities) > 90


def test_generated_statuses_are_registry_statuses() -> None:
    assert set(GENERATED_STATUSES) <= set(STATUSES)


def test_every_age_in_the_tables_reads_with_the_sites_parser() -> None:
    ages = load_vocabulary().eligibility.ages
    texts = [
        choice.age
        for table in (
            ages.adult_min,
            ages.adult_max,
            ages.older_min,
            ages.older_max,
            ages.repro_min,
            ages.repro_max,
        )
        for choice in table
    ] + [age for r in (*ages.child_ranges, *ages.span_ranges) for age in (r.min, r.max)]
    for text in texts:
        assert text is None or age_in_years(text) is not None


# -- malformed files are reported with the file and the entry -------------------------------


def _entry(data: Data, key: str, name: str) -> Data:
    found: Data = next(e for e in data[key] if e.get("name", e.get("city")) == name)
    return found


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        node: Any = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return mutate


BROKEN: list[tuple[str, Callable[[Data], None], tuple[str, ...]]] = [
    (
        "conditions.json",
        lambda d: _entry(d, "conditions", "Asthma").update(weight=0),
        ("conditions[", '("Asthma").weight', "greater than 0"),
    ),
    (
        "conditions.json",
        lambda d: _entry(d, "conditions", "Gout").update(groups=["gout_group"]),
        ('"Gout"', '"gout_group" is not one of ancestor_groups'),
    ),
    (
        "conditions.json",
        lambda d: _entry(d, "conditions", "Migraine").update(weight="2.0"),
        ('("Migraine").weight', "valid number"),
    ),
    (
        "conditions.json",
        lambda d: _entry(d, "conditions", "Glaucoma").update(sexx="FEMALE"),
        ('("Glaucoma").sexx', "Extra inputs are not permitted"),
    ),
    (
        "cities.json",
        lambda d: _entry(d, "cities", "Boston").update(phone_area="6175"),
        ('("Boston")', "three-digit area code"),
    ),
    (
        "cities.json",
        lambda d: _entry(d, "cities", "Osaka").update(lat=135.5),
        ('("Osaka").lat', "less than or equal to 90"),
    ),
    (
        "people.json",
        _set(("central_email_domains", 1), "mail.test"),
        ('central_email_domains[1] ("mail.test")', "example.org"),
    ),
    (
        "texts.json",
        _set(("titles", "drug", 1), "{drug} for {cond}"),
        ('titles.drug[1] ("{drug} for {cond}")', "unknown placeholder {drug}"),
    ),
    (
        "texts.json",
        _set(("fictional_notes", 0), "This study is real."),
        ("fictional_notes[0]", 'must say "fictional"'),
    ),
    (
        "eligibility.json",
        _set(("ages", "adult_min", 0, "age"), "18 Yrs"),
        ('ages.adult_min[0] ("18 Yrs").age', "unknown unit"),
    ),
    (
        "eligibility.json",
        _set(("ages", "child_ranges", 0, "max"), "1 Week"),
        ('ages.child_ranges[0] ("2 Weeks")', '"1 Week" is not above "2 Weeks"'),
    ),
    (
        "eligibility.json",
        _set(("exclusion", "generic", 1), "Pregnant at screening"),
        ("exclusion", 'must not start with "Pregnant"'),
    ),
    (
        "mix.json",
        _set(("statuses", 0, "status"), "UNKNOWN"),
        ('statuses[0] ("UNKNOWN").status', "does not know how to date a UNKNOWN study"),
    ),
    (
        "mix.json",
        _set(("other_site_statuses", 2), "CLOSED"),
        ('other_site_statuses[2] ("CLOSED")', "not a ClinicalTrials.gov status"),
    ),
]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    shutil.copytree(DATA_DIR, directory)
    return directory


@pytest.mark.parametrize(
    ("name", "mutate", "expected"),
    BROKEN,
    ids=[f"{name}-{expected[-1]}" for name, _, expected in BROKEN],
)
def test_a_bad_entry_is_reported_with_its_file_and_name(
    data_copy: Path, name: str, mutate: Callable[[Data], None], expected: tuple[str, ...]
) -> None:
    path = data_copy / name
    data = json.loads(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(VocabularyError) as caught:
        load_vocabulary(data_copy)
    message = str(caught.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


def test_a_file_that_is_not_json_is_reported_with_its_line(data_copy: Path) -> None:
    path = data_copy / "cities.json"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].rstrip(",")  # a missing comma after the city on line 5
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"cities\.json is invalid:\n  not JSON: .* line 6"):
        load_vocabulary(data_copy)


def test_a_missing_file_is_reported(data_copy: Path) -> None:
    (data_copy / "mix.json").unlink()
    with pytest.raises(VocabularyError, match=r"mix\.json cannot be read"):
        load_vocabulary(data_copy)
