"""Fictional clinical studies in ClinicalTrials.gov API v2 JSON shape.

This module owns the demo and benchmark data set: `trialfinder demo-data` loads a few
hundred of these studies into an empty site, and the benchmarks load 100,000. The records
use the exact key names and value styles of the real API v2 (enum statuses, "18 Years"
ages, "YYYY-MM" or "YYYY-MM-DD" dates, messy eligibility text, sites with and without
status, contacts or coordinates) so the importer, search and geo code are exercised the
way real data exercises them.

Every study is clearly fictional: NCT IDs are "NCT9" + 7 digits (a range the registry has
not reached), institutions, sponsors, people and drugs are invented, phone numbers sit in
reserved fictional ranges (US 555-01xx), e-mail addresses use the example.* domains, and
every brief summary says in plain words that the study is a fictional demonstration.
Only the city coordinates and condition names are real, so that distance search and
condition search behave realistically. No text is taken from real registry records.

The words, names, places and weights come from the data files in `data/`, which
`app.demo.vocabulary` loads and checks once, when this module is imported; this module
holds only the rules that combine them.

Output depends only on `seed`: one `random.Random(seed)` stream, no global random state,
and dates relative to the fixed reference day `REFERENCE_DATE`, never today's date.
The vocabulary is precomputed into module-level tuples and random draws go through cheap
`random()`-based helpers, so 100,000 studies take about 5 s of CPU when streamed.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

from app.demo.vocabulary import City, Condition, ascii_slug, load_vocabulary
from app.studies.rules import FICTIONAL_PREFIX, OPEN_STATUSES, RECRUITING, age_in_years

__all__ = [
    "CITIES",
    "CONDITIONS",
    "MAX_STUDIES",
    "REFERENCE_DATE",
    "generate_studies",
    "nct_id",
    "vocabulary_sizes",
]

REFERENCE_DATE = dt.date(2026, 11, 1)
"""All generated dates are placed relative to this fixed day, so output is deterministic."""

MAX_STUDIES = 10_000_000
"""NCT9 + 7 digits leaves room for this many unique IDs in one run."""

T = TypeVar("T")


class _Weighted(Generic[T]):
    """A weighted choice table: one `random()` call and a bisect per pick."""

    __slots__ = ("_cum", "_total", "_values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        values: list[T] = []
        cum: list[float] = []
        total = 0.0
        for value, weight in pairs:
            if weight <= 0:
                continue
            total += weight
            values.append(value)
            cum.append(total)
        if not values:
            raise ValueError("a weighted table needs at least one positive weight")
        self._values: tuple[T, ...] = tuple(values)
        self._cum: tuple[float, ...] = tuple(cum)
        self._total = total

    @property
    def values(self) -> tuple[T, ...]:
        return self._values

    def pick(self, rng: random.Random) -> T:
        return self._values[bisect.bisect(self._cum, rng.random() * self._total)]


class _FastRandom(random.Random):
    """`random.Random` plus cheap helpers built on `random()` alone.

    The stock `randrange`/`choice`/`sample` cost about 1.5 us each; these cost a tenth of
    that, which matters at 100,000 studies. The float-to-index bias is far below anything
    a demo data set could show.
    """

    def below(self, n: int) -> int:
        """An int in [0, n)."""
        return int(self.random() * n)

    def between(self, low: int, high: int) -> int:
        """An int in [low, high], both ends included."""
        return low + int(self.random() * (high - low + 1))

    def one(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def some(self, seq: Sequence[T], k: int) -> list[T]:
        """`k` distinct items of `seq` in random order (partial Fisher-Yates)."""
        pool = list(seq)
        n = len(pool)
        k = min(k, n)
        rnd = self.random
        for i in range(k):
            j = i + int(rnd() * (n - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


_VOCABULARY = load_vocabulary()

# --------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------

CONDITIONS: tuple[Condition, ...] = _VOCABULARY.conditions
_CONDITION_TABLE = _Weighted((c, c.weight) for c in CONDITIONS)


def _companions(primary: Condition) -> tuple[Condition, ...]:
    """Conditions that may be listed next to `primary`: same domain, compatible people."""
    child_like = primary.ages == "child"
    return tuple(
        c
        for c in CONDITIONS
        if c is not primary
        and c.domain == primary.domain
        and (c.sex is None or c.sex == primary.sex)
        and (c.ages == "child") == child_like
    )


_COMPANIONS: dict[str, tuple[Condition, ...]] = {c.name: _companions(c) for c in CONDITIONS}

# --------------------------------------------------------------------------------------
# Statuses, dates, design
# --------------------------------------------------------------------------------------

_MIX = _VOCABULARY.mix
_STATUS_TABLE: _Weighted[str] = _Weighted((s.status, s.weight) for s in _MIX.statuses)
_OTHER_SITE_STATUSES: tuple[str, ...] = _MIX.other_site_statuses
STALE_SHARE = 0.05
"""Share of recruiting studies that look abandoned (old update or past completion)."""

_PHASE_TABLE: _Weighted[tuple[str, ...]] = _Weighted((p.phases, p.weight) for p in _MIX.phases)
_PHASE_TEXT: dict[tuple[str, ...], str] = {p.phases: p.text for p in _MIX.phases}

# Day strings for every day from ~16 years before to ~12 years after the reference date.
_DAY_MIN = -6000
_DAY_MAX = 4500
_REF_ORDINAL = REFERENCE_DATE.toordinal()
_DAYS: tuple[str, ...] = tuple(
    dt.date.fromordinal(_REF_ORDINAL + offset).isoformat()
    for offset in range(_DAY_MIN, _DAY_MAX + 1)
)


def _day(offset: int) -> str:
    """ "YYYY-MM-DD" for a day offset from the reference date."""
    return _DAYS[min(max(offset, _DAY_MIN), _DAY_MAX) - _DAY_MIN]


# --------------------------------------------------------------------------------------
# Ages and sex
# --------------------------------------------------------------------------------------

_AdultAge = tuple[str | None, str | None]

_AGES = _VOCABULARY.eligibility.ages
_ADULT_MIN: _Weighted[str | None] = _Weighted((a.age, a.weight) for a in _AGES.adult_min)
_ADULT_MAX: _Weighted[str | None] = _Weighted((a.age, a.weight) for a in _AGES.adult_max)
_OLDER_MIN: _Weighted[str | None] = _Weighted((a.age, a.weight) for a in _AGES.older_min)
_OLDER_MAX: _Weighted[str | None] = _Weighted((a.age, a.weight) for a in _AGES.older_max)
_REPRO_MIN: _Weighted[str | None] = _Weighted((a.age, a.weight) for a in _AGES.repro_min)
_REPRO_MAX: _Weighted[str | None] = _Weighted((a.age, a.weight) for a in _AGES.repro_max)
_CHILD_RANGES: _Weighted[_AdultAge] = _Weighted(
    ((r.min, r.max), r.weight) for r in _AGES.child_ranges
)
_SPAN_RANGES: _Weighted[_AdultAge] = _Weighted(
    ((r.min, r.max), r.weight) for r in _AGES.span_ranges
)


def _std_ages(minimum: float | None, maximum: float | None) -> list[str]:
    low = 0.0 if minimum is None else minimum
    out = []
    if low < 18:
        out.append("CHILD")
    if low < 65 and (maximum is None or maximum >= 18):
        out.append("ADULT")
    if maximum is None or maximum >= 65:
        out.append("OLDER_ADULT")
    return out


# Every age in the tables, in years, read by the same parser the search uses, so the
# generated stdAges and the minimum-below-maximum rule agree with how the site reads them.
_AGES_IN_TABLES: frozenset[str | None] = frozenset(
    [age for table in (_ADULT_MIN, _ADULT_MAX, _OLDER_MIN, _OLDER_MAX) for age in table.values]
    + [age for table in (_REPRO_MIN, _REPRO_MAX) for age in table.values]
    + [age for table in (_CHILD_RANGES, _SPAN_RANGES) for pair in table.values for age in pair]
)
_AGE_YEARS: dict[str | None, float | None] = {age: age_in_years(age) for age in _AGES_IN_TABLES}


def _pick_ages(rng: random.Random, profile: str) -> _AdultAge:
    if profile == "mixed":
        roll = rng.random()
        if roll < 0.3:
            return _CHILD_RANGES.pick(rng)
        if roll < 0.6:
            return _SPAN_RANGES.pick(rng)
        profile = "adult"
    if profile == "child":
        return _CHILD_RANGES.pick(rng)
    if profile == "older":
        low, high = _OLDER_MIN.pick(rng), _OLDER_MAX.pick(rng)
    elif profile == "repro":
        low, high = _REPRO_MIN.pick(rng), _REPRO_MAX.pick(rng)
    else:
        low, high = _ADULT_MIN.pick(rng), _ADULT_MAX.pick(rng)
    low_years, high_years = _AGE_YEARS[low], _AGE_YEARS[high]
    if low_years is not None and high_years is not None and high_years <= low_years:
        high = None
    return low, high


def _unforced_sex_table() -> _Weighted[str | None]:
    """Sex weights for conditions without a required sex, tuned so the overall mix is
    about 80% ALL, 14% FEMALE, 5% MALE and 1% missing despite sex-specific conditions."""
    total = sum(c.weight for c in CONDITIONS)
    forced_female = sum(c.weight for c in CONDITIONS if c.sex == "FEMALE") / total
    forced_male = sum(c.weight for c in CONDITIONS if c.sex == "MALE") / total
    free = 1.0 - forced_female - forced_male
    return _Weighted(
        (
            ("ALL", 0.80 / free),
            ("FEMALE", max(0.14 - forced_female, 0.005) / free),
            ("MALE", max(0.05 - forced_male, 0.003) / free),
            (None, 0.01 / free),
        )
    )


_UNFORCED_SEX = _unforced_sex_table()

# --------------------------------------------------------------------------------------
# People, institutions, interventions
# --------------------------------------------------------------------------------------

_PEOPLE_FILE = _VOCABULARY.people
_FIRST_NAMES: tuple[str, ...] = _PEOPLE_FILE.first_names
_LAST_NAMES: tuple[str, ...] = _PEOPLE_FILE.last_names


class _Person(NamedTuple):
    name: str  # "Zoë O'Brien"
    dotted: str  # "zoe.obrien"
    short: str  # "zobrien"


_PEOPLE: tuple[_Person, ...] = tuple(
    _Person(f"{first} {last}", f"{ascii_slug(first)}.{ascii_slug(last)}",
            f"{ascii_slug(first)[0]}{ascii_slug(last)}")
    for first, last in itertools.product(_FIRST_NAMES, _LAST_NAMES)
)  # fmt: skip
# Credentials after a name, repeated by weight so a uniform pick gives the mix.
_CREDENTIALS: tuple[str, ...] = tuple(
    c.text for c in _PEOPLE_FILE.credentials for _ in range(c.copies)
)
_TEAM_NAMES: tuple[str, ...] = tuple(t.name for t in _PEOPLE_FILE.teams)
_TEAM_SLUGS: tuple[str, ...] = tuple(t.slug for t in _PEOPLE_FILE.teams)
_CENTRAL_DOMAINS: tuple[str, ...] = _PEOPLE_FILE.central_email_domains

_ORGANISATIONS = _VOCABULARY.organisations
_PLACE_WORDS: tuple[str, ...] = _ORGANISATIONS.place_words
_FACILITIES: tuple[str, ...] = tuple(
    f"{place} {kind}"
    for place, kind in itertools.product(_PLACE_WORDS, _ORGANISATIONS.facility_kinds)
)
_CHILD_FACILITIES: tuple[str, ...] = tuple(
    f"{place} {kind}"
    for place, kind in itertools.product(_PLACE_WORDS, _ORGANISATIONS.child_facility_kinds)
)
_ACADEMIC_SPONSORS: tuple[str, ...] = tuple(
    f"{place} {kind}"
    for place, kind in itertools.product(_PLACE_WORDS, _ORGANISATIONS.academic_kinds)
)
_INDUSTRY_SPONSORS: tuple[str, ...] = _ORGANISATIONS.industry_sponsors
_OTHER_GOV_SPONSORS: tuple[str, ...] = _ORGANISATIONS.government_sponsors
_NETWORK_SPONSORS: tuple[str, ...] = _ORGANISATIONS.network_sponsors

_INTERVENTIONS = _VOCABULARY.interventions
_DRUG_NAMES: tuple[str, ...] = tuple(
    stem + suffix
    for stem, suffix in itertools.product(_INTERVENTIONS.drug_stems, _INTERVENTIONS.drug_suffixes)
)
_DRUG_CODE_PREFIXES: tuple[str, ...] = _INTERVENTIONS.drug_code_prefixes
# (title case, sentence case)
_NON_DRUG_INTERVENTIONS: tuple[tuple[str, str], ...] = tuple(
    (i.title, i.text) for i in _INTERVENTIONS.non_drug
)

# --------------------------------------------------------------------------------------
# Places: real cities with real coordinates, weighted roughly by trial-site counts.
# --------------------------------------------------------------------------------------

CITIES: tuple[City, ...] = _VOCABULARY.cities
_CITY_TABLE = _Weighted((c, c.weight) for c in CITIES)
_CITIES_BY_COUNTRY: dict[str, _Weighted[City]] = {
    country: _Weighted((c, c.weight) for c in CITIES if c.country == country)
    for country in {c.country for c in CITIES}
}
_SITE_COUNT_TABLE: _Weighted[int] = _Weighted((s.sites, s.weight) for s in _MIX.site_counts)

# --------------------------------------------------------------------------------------
# Text: summaries, descriptions, eligibility
# --------------------------------------------------------------------------------------

_TEXTS = _VOCABULARY.texts
_OBSERVATIONAL_TITLES: tuple[str, ...] = _TEXTS.titles.observational
_DRUG_TITLES: tuple[str, ...] = _TEXTS.titles.drug
_NON_DRUG_TITLES: tuple[str, ...] = _TEXTS.titles.non_drug
_ACRONYM_WORDS: tuple[str, ...] = _TEXTS.acronyms
_DRUG_DESIGNS: tuple[str, ...] = _TEXTS.drug_designs
_DRUG_AIMS: tuple[str, ...] = _TEXTS.drug_aims
_FICTIONAL_NOTES: tuple[str, ...] = _TEXTS.fictional_notes
_DRUG_PURPOSES: tuple[str, ...] = _TEXTS.purposes.drug
_NON_DRUG_PURPOSES: tuple[str, ...] = _TEXTS.purposes.non_drug
_OBSERVATIONAL_PURPOSES: tuple[str, ...] = _TEXTS.purposes.observational
_PLACEBO_SENTENCE: str = _TEXTS.placebo_sentence
_DETAIL_SENTENCES: tuple[str, ...] = _TEXTS.detail_sentences
_DESCRIPTION_PARAGRAPHS: tuple[str, ...] = _TEXTS.description_paragraphs

_ELIGIBILITY = _VOCABULARY.eligibility
_INCLUSION_GENERIC: tuple[str, ...] = _ELIGIBILITY.inclusion.generic
_INCLUSION_ONCOLOGY: tuple[str, ...] = _ELIGIBILITY.inclusion.oncology
_ORGAN_FUNCTION_HEAD: str = _ELIGIBILITY.organ_function.heading
_ORGAN_FUNCTION_ITEMS: tuple[str, ...] = _ELIGIBILITY.organ_function.items
_INCLUSION_CHILD: tuple[str, ...] = _ELIGIBILITY.inclusion.child
_INCLUSION_FEMALE: tuple[str, ...] = _ELIGIBILITY.inclusion.female
_EXCLUSION_GENERIC: tuple[str, ...] = _ELIGIBILITY.exclusion.generic
_EXCLUSION_ONCOLOGY: tuple[str, ...] = _ELIGIBILITY.exclusion.oncology
_HEADINGS: tuple[tuple[str, str], ...] = tuple(
    (h.inclusion, h.exclusion) for h in _ELIGIBILITY.headings
)
_CRITERIA_STYLE: _Weighted[str] = _Weighted((s.style, s.weight) for s in _ELIGIBILITY.styles)


def _wrap(text: str, width: int, indent: str) -> str:
    """Break a long line the way some registry entries are hard-wrapped."""
    if len(text) <= width:
        return text
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return ("\n" + indent).join(lines)


def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("ALT")."""
    if len(text) > 1 and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _age_item(low: str | None, high: str | None) -> str:
    if low is None and high is None:
        return "Any age"
    low_text = low.lower() if low else None
    high_text = high.lower() if high else None
    if low_text and high_text:
        return f"Aged {low_text.split()[0]} {low_text.split()[1]} to {high_text}"
    if low_text:
        return f"Age \\>= {low_text}"
    return f"Age \\<= {high_text}"


# --------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------


class _Builder:
    """Builds one study at a time from a single random stream."""

    def __init__(self, seed: int) -> None:
        self.rng = _FastRandom(seed)
        self.seed = seed

    # -- small helpers ------------------------------------------------------------------

    def person(self) -> tuple[str, str]:
        """(display name, e-mail local part)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            k = int(roll / 0.08 * len(_TEAM_NAMES))
            return _TEAM_NAMES[k], _TEAM_SLUGS[k]
        person = rng.one(_PEOPLE)
        name = person.name + rng.one(_CREDENTIALS)
        if roll < 0.54:
            return name, person.dotted
        return name, f"{person.short}{int(roll * 1000) % 99 + 1}"

    def phone(self, city: City) -> str:
        """A number in a reserved fictional range (US/Canada 555-01xx)."""
        roll = self.rng.random()
        if city.nanp:
            tail = int(roll * 10_000) % 100
            if roll < 0.5:
                return f"+1 {city.area}-555-01{tail:02d}"
            if roll < 0.8:
                return f"{city.area}-555-01{tail:02d}"
            return f"({city.area}) 555-01{tail:02d}"
        return f"{city.area} 0{int(roll * 1000):03d}"

    def contact(self, city: City, domain: str) -> dict[str, Any]:
        rng = self.rng
        name, local = self.person()
        out: dict[str, Any] = {"name": name, "role": "CONTACT"}
        roll = rng.random()
        if roll >= 0.03:  # 3% e-mail only
            out["phone"] = self.phone(city)
            if roll > 0.95:
                out["phoneExt"] = str(int(roll * 1_000_000) % 9000 + 1000)
        if roll < 0.03 or roll > 0.08:  # 5% phone only
            out["email"] = f"{local}@{domain}"
        return out

    # -- sections ------------------------------------------------------------------------

    def conditions(self) -> list[Condition]:
        rng = self.rng
        primary = _CONDITION_TABLE.pick(rng)
        chosen = [primary]
        companions = _COMPANIONS[primary.name]
        if companions:
            roll = rng.random()
            extra = 2 if roll < 0.12 else 1 if roll < 0.40 else 0
            for _ in range(extra):
                candidate = rng.one(companions)
                if candidate not in chosen:
                    chosen.append(candidate)
        return chosen

    def dates(self, status: str) -> dict[str, Any]:
        """Status dates as day offsets from the reference date, then formatted."""
        rng = self.rng
        ri = rng.between
        start_type = primary_type = "ESTIMATED"
        if status in ("RECRUITING", "ENROLLING_BY_INVITATION"):
            start = -ri(20, 1500)
            start_type = "ACTUAL"
            first_post = min(start + ri(-90, 30), -1)
            last_update = max(-ri(1, 330), first_post)
            primary = ri(62, 1460)
            if rng.random() < STALE_SHARE:
                mode = rng.random()
                if mode < 0.8:
                    last_update = -ri(400, 1400)
                if mode >= 0.5:
                    primary = -ri(30, 700)
                    start = min(start, primary - ri(180, 900))
                start = min(start, last_update - ri(30, 400))
                first_post = min(first_post, start + ri(-60, 30), last_update)
        elif status == "NOT_YET_RECRUITING":
            start = ri(10, 300)
            first_post = -ri(1, 180)
            last_update = first_post + ri(0, -first_post - 1)
            primary = start + ri(180, 1460)
        elif status in ("ACTIVE_NOT_RECRUITING", "SUSPENDED"):
            start = -ri(500, 3000)
            start_type = "ACTUAL"
            first_post = start + ri(-60, 30)
            last_update = -ri(1, 450)
            if status == "ACTIVE_NOT_RECRUITING" and rng.random() < 0.5:
                primary = max(-ri(30, 600), start + 180)
                primary_type = "ACTUAL"
            else:
                primary = ri(62, 1000)
        elif status == "WITHDRAWN":
            start = -ri(30, 900)
            first_post = start - ri(30, 200)
            last_update = min(start + ri(0, 200), -1)
            primary = start + ri(365, 1000)
        else:  # COMPLETED, TERMINATED
            primary = -ri(60, 2500)
            primary_type = "ACTUAL"
            start = primary - ri(180, 1800)
            start_type = "ACTUAL"
            first_post = start + ri(-60, 60)
            last_update = min(primary + ri(10, 500), -1)
        first_post = min(first_post, last_update)
        completion = primary + (ri(0, 730) if rng.random() < 0.6 else 0)
        if status in ("COMPLETED", "TERMINATED"):
            completion = min(completion, last_update - 5)
        completion_type = primary_type
        if primary_type == "ACTUAL" and completion > -1:
            completion_type = "ESTIMATED"
        elif primary_type == "ESTIMATED" and status in ("COMPLETED", "TERMINATED"):
            completion_type = "ACTUAL"

        month_only = rng.random() < 0.5
        first_post_text = _day(first_post)
        last_update_text = _day(last_update)
        start_text = _day(start)[:7] if month_only else _day(start)
        primary_text = _day(primary)[:7] if month_only else _day(primary)
        completion_text = _day(completion)[:7] if month_only else _day(completion)
        start_struct: dict[str, Any] = {"date": start_text}
        if rng.random() < 0.9:
            start_struct["type"] = start_type
        return {
            "statusVerifiedDate": last_update_text[:7],
            "overallStatus": status,
            "startDateStruct": start_struct,
            "primaryCompletionDateStruct": {"date": primary_text, "type": primary_type},
            "completionDateStruct": {"date": completion_text, "type": completion_type},
            "studyFirstSubmitDate": _day(first_post - ri(1, 20)),
            "studyFirstPostDateStruct": {"date": first_post_text, "type": "ACTUAL"},
            "lastUpdateSubmitDate": _day(last_update - ri(0, 3)),
            "lastUpdatePostDateStruct": {"date": last_update_text, "type": "ACTUAL"},
        }

    def eligibility_text(
        self,
        conditions: list[Condition],
        low: str | None,
        high: str | None,
        sex: str | None,
    ) -> str:
        rng = self.rng
        primary = conditions[0]
        cond = primary.name
        n_value = rng.one((3, 4, 6, 8, 12))
        inclusion: list[tuple[str, tuple[str, ...]]] = [(_age_item(low, high), ())]
        for item in rng.some(_INCLUSION_GENERIC, rng.between(2, 4)):
            inclusion.append((item.format(cond=cond, n=n_value), ()))
        if primary.domain == "oncology":
            inclusion.append((rng.one(_INCLUSION_ONCOLOGY), ()))
            if rng.random() < 0.6:
                subs = tuple(rng.some(_ORGAN_FUNCTION_ITEMS, rng.between(2, 4)))
                inclusion.append((_ORGAN_FUNCTION_HEAD, subs))
        if primary.ages == "child":
            inclusion.append((rng.one(_INCLUSION_CHILD), ()))
        elif sex == "FEMALE" and primary.ages == "repro" and not primary.pregnancy:
            inclusion.append((rng.one(_INCLUSION_FEMALE), ()))
        exclusion = rng.some(_EXCLUSION_GENERIC, rng.between(2, 5))
        if primary.domain == "oncology":
            exclusion.append(rng.one(_EXCLUSION_ONCOLOGY))
        if sex == "MALE" or primary.ages == "child" or primary.pregnancy:
            exclusion = [e for e in exclusion if not e.startswith("Pregnant")] or [
                _EXCLUSION_GENERIC[1]
            ]

        style = _CRITERIA_STYLE.pick(rng)
        head_in, head_ex = rng.one(_HEADINGS)
        if style == "inline":
            inc = "; ".join(
                f"{text.rstrip(':')} {', '.join(subs)}" if subs else text
                for text, subs in inclusion
            )
            return f"{head_in} {inc}.\n{head_ex} {'; '.join(exclusion)}."
        lines: list[str] = []
        if style == "noheading":
            for text, subs in inclusion:
                lines.append(f"- {text}")
                lines.extend(f"  - {s}" for s in subs)
            lines.append("")
            lines.append(
                "People with any of the following cannot take part: "
                + "; ".join(_lower_first(e) for e in exclusion)
            )
            return "\n".join(lines)
        for heading, items in (
            (head_in, inclusion),
            (head_ex, [(e, ()) for e in exclusion]),
        ):
            if lines:
                lines.append("")
            lines.append(heading)
            lines.append("")
            for number, (text, subs) in enumerate(items, start=1):
                if style == "numbered":
                    lines.append(f"{number}. {text}")
                    lines.extend(f"   * {s}" for s in subs)
                elif style == "escaped":
                    lines.append(f"{number}\\. {text}")
                    lines.extend(f"   * {s}" for s in subs)
                elif style == "dash":
                    lines.append(f"- {text}")
                    lines.extend(f"  - {s}" for s in subs)
                elif style == "wrapped":
                    lines.append("* " + _wrap(text, 60, "  "))
                    lines.extend(f"  * {s}" for s in subs)
                else:
                    lines.append(f"* {text}")
                    lines.extend(f"  * {s}" for s in subs)
        return "\n".join(lines)

    def locations(
        self, status: str, n_sites: int, child: bool
    ) -> tuple[list[dict[str, Any]], City]:
        rng = self.rng
        first = _CITY_TABLE.pick(rng)
        one_country = rng.random() < 0.6
        same_country = _CITIES_BY_COUNTRY[first.country]
        facilities = _CHILD_FACILITIES if child and rng.random() < 0.5 else _FACILITIES
        n_fac = len(facilities)
        open_study = status in OPEN_STATUSES
        recruiting = status == RECRUITING
        sites: list[dict[str, Any]] = []
        for index in range(n_sites):
            if index == 0:
                city = first
            elif one_country:
                city = same_country.pick(rng)
            else:
                city = _CITY_TABLE.pick(rng)
            site: dict[str, Any] = {"facility": facilities[rng.below(n_fac)]}
            roll = rng.random()
            if recruiting:
                if roll < 0.8:
                    site["status"] = RECRUITING
                elif roll < 0.9:
                    site["status"] = rng.one(_OTHER_SITE_STATUSES)
            elif open_study or status in ("ACTIVE_NOT_RECRUITING", "SUSPENDED"):
                if roll < 0.9:
                    site["status"] = status
            elif roll < 0.3:
                site["status"] = status
            site["city"] = city.city
            if city.state is not None:
                site["state"] = city.state
            if city.zip is not None:
                site["zip"] = city.zip
            site["country"] = city.country
            roll = rng.random()
            if roll >= 0.10:
                contacts = [self.contact(city, "example.org")]
                if roll >= 0.55:
                    if rng.random() < 0.15:
                        contacts.append(
                            {"name": self.person()[0], "role": "PRINCIPAL_INVESTIGATOR"}
                        )
                    else:
                        contacts.append(self.contact(city, "example.org"))
                site["contacts"] = contacts
            if rng.random() >= 0.03:
                site["geoPoint"] = {
                    "lat": round(city.lat + (rng.random() - 0.5) * 0.1, 5),
                    "lon": round(city.lon + (rng.random() - 0.5) * 0.1, 5),
                }
            sites.append(site)
        return sites, first

    # -- the study -----------------------------------------------------------------------

    def study(self, index: int) -> dict[str, Any]:
        rng = self.rng
        nct = nct_id(self.seed, index)

        conditions = self.conditions()
        primary = conditions[0]
        status = _STATUS_TABLE.pick(rng)
        observational = rng.random() < 0.2
        phases: tuple[str, ...] = () if observational else _PHASE_TABLE.pick(rng)
        drug = bool(phases) and phases != ("NA",)

        # People
        sex = primary.sex if primary.sex is not None else _UNFORCED_SEX.pick(rng)
        low, high = _pick_ages(rng, primary.ages)
        std_ages = _std_ages(_AGE_YEARS[low], _AGE_YEARS[high])
        child_only = std_ages == ["CHILD"]
        if child_only:
            pop = "children"
        elif sex == "FEMALE":
            pop = "women"
        elif sex == "MALE":
            pop = "men"
        elif "CHILD" in std_ages:
            pop = "children and adults"
        elif primary.ages == "older":
            pop = "older adults"
        else:
            pop = "adults"

        # Intervention
        if drug:
            if rng.random() < 0.5:
                iv_title = iv_text = rng.one(_DRUG_NAMES).capitalize()
            else:
                prefix = rng.one(_DRUG_CODE_PREFIXES)
                iv_title = iv_text = f"{prefix}-{rng.between(100, 9999)}"
        else:
            iv_title, iv_text = rng.one(_NON_DRUG_INTERVENTIONS)

        # Sponsor
        roll = rng.random()
        if drug and roll < 0.55:
            sponsor, sponsor_class = rng.one(_INDUSTRY_SPONSORS), "INDUSTRY"
        elif roll > 0.97:
            sponsor, sponsor_class = rng.one(_OTHER_GOV_SPONSORS), "OTHER_GOV"
        elif roll > 0.95:
            sponsor, sponsor_class = rng.one(_NETWORK_SPONSORS), "NETWORK"
        else:
            sponsor = rng.one(_ACADEMIC_SPONSORS)
            sponsor_class = "OTHER"

        # Titles
        cond = primary.name
        pop_title = pop.title().replace(" And ", " and ")
        title_fields = {"iv": iv_title, "pop": pop_title, "cond": cond}
        if observational:
            brief = rng.one(_OBSERVATIONAL_TITLES).format(**title_fields)
            official = (
                f"A Prospective, {rng.one(('Multicenter', 'Single-center'))}, Observational "
                f"Cohort Study of {pop_title} With {cond}"
            )
        elif drug:
            brief = rng.one(_DRUG_TITLES).format(**title_fields)
            official = (
                f"A {_PHASE_TEXT[phases]}, {rng.one(_DRUG_DESIGNS)}, Multicenter Study to "
                f"Evaluate the {rng.one(_DRUG_AIMS)} of {iv_title} in {pop_title} With {cond}"
            )
        else:
            brief = rng.one(_NON_DRUG_TITLES).format(**title_fields)
            official = (
                f"A Randomized Controlled Trial of {iv_title} Compared With Usual Care in "
                f"{pop_title} With {cond}"
            )

        identification: dict[str, Any] = {
            "nctId": nct,
            "orgStudyIdInfo": {"id": f"DEMO-{nct[-6:]}"},
            "organization": {"fullName": sponsor, "class": sponsor_class},
            "briefTitle": brief,
            "officialTitle": official,
        }
        if rng.random() < 0.3:
            word = rng.one(_ACRONYM_WORDS)
            identification["acronym"] = (
                word if rng.random() < 0.6 else f"{word}-{rng.between(1, 9)}"
            )

        # Sites
        n_sites = _SITE_COUNT_TABLE.pick(rng)
        sites, home = self.locations(status, n_sites, child_only)

        # Summary
        fmt = {"iv": iv_text, "pop": pop, "cond": cond}
        if observational:
            purpose = rng.one(_OBSERVATIONAL_PURPOSES).format(**fmt)
        elif drug:
            purpose = rng.one(_DRUG_PURPOSES).format(**fmt)
        else:
            purpose = rng.one(_NON_DRUG_PURPOSES).format(**fmt)
        note = rng.one(_FICTIONAL_NOTES)
        enrollment = 0 if status == "WITHDRAWN" else max(8, int(rng.lognormvariate(4.3, 1.0)))
        sentences = [purpose]
        details = rng.some(_DETAIL_SENTENCES, rng.between(0, 2))
        if drug and details and rng.random() < 0.4:
            details[-1] = _PLACEBO_SENTENCE
        for detail in details:
            sentences.append(
                detail.format(
                    months=rng.one((3, 6, 12, 18, 24)),
                    visits=rng.between(3, 12),
                    enrollment=max(enrollment, 20),
                    sites="one site" if n_sites == 1 else f"{n_sites} sites",
                )
            )
        if rng.random() < 0.5:
            sentences.append(note)
        else:
            sentences.insert(0, note)
        description: dict[str, Any] = {"briefSummary": " ".join(sentences)}
        if rng.random() < 0.4:
            paragraphs = rng.some(_DESCRIPTION_PARAGRAPHS, rng.between(2, 3))
            description["detailedDescription"] = "\n\n".join(
                p.format(cond=cond, screen=rng.one((2, 4, 6)), months=rng.one((6, 12)))
                for p in paragraphs
            )

        # Conditions and keywords
        conditions_module: dict[str, Any] = {"conditions": [c.name for c in conditions]}
        n_keywords = rng.between(0, 4)
        if n_keywords:
            pool = primary.keywords
            keywords = rng.some(pool, min(n_keywords, len(pool)))
            if n_keywords > len(pool) and not observational:
                keywords.append(iv_title)
            conditions_module["keywords"] = keywords

        meshes = [{"id": c.mesh[0], "term": c.mesh[1]} for c in conditions]
        if len(conditions) == 1:
            ancestors = [{"id": a, "term": t} for a, t in primary.ancestors]
        else:
            seen: set[str] = {c.mesh[0] for c in conditions}
            ancestors = []
            for c in conditions:
                for a, t in c.ancestors:
                    if a not in seen:
                        seen.add(a)
                        ancestors.append({"id": a, "term": t})

        design: dict[str, Any] = {
            "studyType": "OBSERVATIONAL" if observational else "INTERVENTIONAL"
        }
        if observational:
            design["patientRegistry"] = rng.random() < 0.3
        else:
            design["phases"] = list(phases)
        design["enrollmentInfo"] = {
            "count": enrollment,
            "type": "ACTUAL" if status in ("COMPLETED", "TERMINATED", "WITHDRAWN") else "ESTIMATED",
        }

        healthy_share = 0.25 if phases in (("PHASE1",), ("EARLY_PHASE1",)) else 0.06
        eligibility: dict[str, Any] = {
            "eligibilityCriteria": self.eligibility_text(conditions, low, high, sex),
            "healthyVolunteers": rng.random() < healthy_share,
        }
        if sex is not None:
            eligibility["sex"] = sex
        if low is not None:
            eligibility["minimumAge"] = low
        if high is not None:
            eligibility["maximumAge"] = high
        eligibility["stdAges"] = std_ages

        contacts_locations: dict[str, Any] = {}
        roll = rng.random()
        n_central = (
            (0 if roll < 0.15 else 1 if roll < 0.6 else 2)
            if status in OPEN_STATUSES
            else (0 if roll < 0.7 else 1)
        )
        if n_central:
            domain = _CENTRAL_DOMAINS[rng.below(len(_CENTRAL_DOMAINS))]
            contacts_locations["centralContacts"] = [
                self.contact(home, domain) for _ in range(n_central)
            ]
        contacts_locations["locations"] = sites

        return {
            "protocolSection": {
                "identificationModule": identification,
                "statusModule": self.dates(status),
                "sponsorCollaboratorsModule": {
                    "responsibleParty": {"type": "SPONSOR"},
                    "leadSponsor": {"name": sponsor, "class": sponsor_class},
                },
                "descriptionModule": description,
                "conditionsModule": conditions_module,
                "designModule": design,
                "eligibilityModule": eligibility,
                "contactsLocationsModule": contacts_locations,
            },
            "derivedSection": {
                "conditionBrowseModule": {"meshes": meshes, "ancestors": ancestors},
            },
            "hasResults": False,
        }


def nct_id(seed: int, index: int) -> str:
    """The fictional NCT ID of study `index` in the run with `seed`: "NCT9" + 7 digits.

    Real IDs are still far below NCT90000000, so these cannot collide with a real study. The
    seed's last digit picks a block of a million and the index counts within it, as in
    f"NCT9{seed % 10}{index:06d}"; past a million the number wraps modulo 10^7, so any run
    of up to `MAX_STUDIES` studies has unique IDs.
    """
    return f"{FICTIONAL_PREFIX}{((seed % 10) * 1_000_000 + index) % MAX_STUDIES:07d}"


def generate_studies(count: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """Yield `count` fictional API v2 study objects; the same seed gives the same studies.

    Each call builds fresh objects, so callers may mutate them. A shorter run is a prefix
    of a longer one with the same seed. NCT IDs are "NCT9" + 7 digits, unique within a run
    of up to `MAX_STUDIES` studies.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if count > MAX_STUDIES:
        raise ValueError(f"count must be at most {MAX_STUDIES:,} to keep NCT IDs unique")
    return _iterate(count, seed)


def _iterate(count: int, seed: int) -> Iterator[dict[str, Any]]:
    builder = _Builder(seed)
    for index in range(count):
        yield builder.study(index)


def vocabulary_sizes() -> dict[str, int]:
    """How many distinct values each hand-written table holds (for docs and reports)."""
    return {
        "conditions": len(CONDITIONS),
        "mesh_ancestors": len({a for c in CONDITIONS for a in c.ancestors}),
        "cities": len(CITIES),
        "countries": len({c.country for c in CITIES}),
        "facilities": len(_FACILITIES) + len(_CHILD_FACILITIES),
        "sponsors": len(_ACADEMIC_SPONSORS)
        + len(_INDUSTRY_SPONSORS)
        + len(_OTHER_GOV_SPONSORS)
        + len(_NETWORK_SPONSORS),
        "drug_names": len(_DRUG_NAMES),
        "non_drug_interventions": len(_NON_DRUG_INTERVENTIONS),
        "first_names": len(_FIRST_NAMES),
        "last_names": len(_LAST_NAMES),
        "people": len(_PEOPLE),
    }
