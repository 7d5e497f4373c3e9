"""The demo generator's vocabulary: the hand-written tables in `data/*.json`, checked.

Each file holds one family of tables (conditions, cities, people, organisations,
interventions, texts, eligibility, and the mix of statuses, phases and site counts) and
says in its "about" entry what the fields mean. `load_vocabulary()` reads them all once,
validates every entry against the models below and returns typed, immutable values. A file
that is missing, is not JSON or holds a bad entry stops the load with a `VocabularyError`
naming the file and the entry, so a typo in a data file fails the first test run instead of
quietly skewing the generated studies.

The checks cover what the generator relies on: weights are positive, every text it picks
from is non-empty, templates use only the placeholders the generator fills in, ages are
ones the site's own age parser (`app.studies.rules.age_in_years`) reads, statuses are
ClinicalTrials.gov statuses whose dates the generator knows how to place, and e-mail
domains and North American phone numbers stay in the ranges reserved for fiction.
"""

from __future__ import annotations

import functools
import json
import string
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, NamedTuple, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from app.studies.rules import STATUSES, age_in_years

__all__ = [
    "DATA_DIR",
    "GENERATED_STATUSES",
    "City",
    "Condition",
    "Vocabulary",
    "VocabularyError",
    "ascii_slug",
    "load_vocabulary",
]

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
"""Where the data files live, inside the package so that they ship in the wheel."""

GENERATED_STATUSES: Final = (
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ENROLLING_BY_INVITATION",
    "ACTIVE_NOT_RECRUITING",
    "SUSPENDED",
    "COMPLETED",
    "TERMINATED",
    "WITHDRAWN",
)
"""The overall statuses whose dates the generator knows how to place."""

NANP_COUNTRIES: Final = frozenset({"United States", "Canada"})
"""Countries of the North American numbering plan, where phones end in 555-01xx."""


class VocabularyError(ValueError):
    """A data file is missing, is not JSON, or holds an entry the generator cannot use."""


def ascii_slug(text: str) -> str:
    """ "Zoë O'Brien" -> "zoeobrien": the letters and digits of `text`, accents dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


# --- the records the generator draws ------------------------------------------------------


class Condition(NamedTuple):
    name: str
    mesh: tuple[str, str]  # (id, term)
    ancestors: tuple[tuple[str, str], ...]
    domain: str
    ages: str
    sex: str | None
    keywords: tuple[str, ...]
    weight: float
    pregnancy: bool  # about pregnancy itself: no "pregnant" exclusion, no pregnancy test


class City(NamedTuple):
    city: str
    state: str | None
    zip: str | None
    country: str
    lat: float
    lon: float
    weight: float
    area: str  # phone area code, or country and area prefix outside North America
    nanp: bool  # North American numbering plan (US, Canada)


# --- field types ---------------------------------------------------------------------------


def _placeholders(*allowed: str) -> AfterValidator:
    """A check that a `str.format` template uses only the named placeholders."""

    def check(text: str) -> str:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        unknown = sorted(used - set(allowed))
        if unknown:
            names = ", ".join("{" + name + "}" for name in unknown)
            known = ", ".join("{" + name + "}" for name in allowed)
            raise ValueError(f"unknown placeholder {names}; this text may use {known}")
        return text

    return AfterValidator(check)


def _age(text: str | None) -> str | None:
    if text is not None and age_in_years(text) is None:  # age_in_years raises on nonsense
        raise ValueError(f'age "{text}" is no limit; write null for no limit')
    return text


def _has_ascii_letters(name: str) -> str:
    if not ascii_slug(name):
        raise ValueError("a name needs at least one letter or digit that has an ASCII form")
    return name


def _says_fictional(text: str) -> str:
    if "fictional" not in text.lower():
        raise ValueError('a fictional note must say "fictional"')
    return text


def _is_status(status: str) -> str:
    if status not in STATUSES:
        raise ValueError(f"{status!r} is not a ClinicalTrials.gov status")
    return status


def _is_generated_status(status: str) -> str:
    _is_status(status)
    if status not in GENERATED_STATUSES:
        raise ValueError(f"the generator does not know how to date a {status} study")
    return status


Text = Annotated[str, Field(min_length=1)]
Texts = Annotated[tuple[Text, ...], Field(min_length=1)]
Weight = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1), AfterValidator(_has_ascii_letters)]
Age = Annotated[str | None, AfterValidator(_age)]
Status = Annotated[str, AfterValidator(_is_status)]
GeneratedStatus = Annotated[str, AfterValidator(_is_generated_status)]
Phase = Literal["NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"]
AgeProfile = Literal["adult", "child", "mixed", "older", "repro"]
CriteriaStyle = Literal["star", "numbered", "dash", "wrapped", "escaped", "inline", "noheading"]
# RFC 2606 reserves these for examples: no real person can receive the demo data's e-mail.
ExampleDomain = Literal["example.com", "example.net", "example.org"]
StudyTemplate = Annotated[str, Field(min_length=1), _placeholders("cond", "iv", "pop")]
DetailTemplate = Annotated[
    str, Field(min_length=1), _placeholders("months", "visits", "enrollment", "sites")
]
ParagraphTemplate = Annotated[str, Field(min_length=1), _placeholders("cond", "screen", "months")]
InclusionTemplate = Annotated[str, Field(min_length=1), _placeholders("cond", "n")]
FictionalNote = Annotated[str, AfterValidator(_says_fictional)]

F = TypeVar("F", bound="_File")


class _Model(BaseModel):
    # Strict: a weight written as "8" or a list where an object belongs is an error, not
    # something to coerce. Unknown keys are errors too, since they are usually typos.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _File(_Model):
    about: str  # what the file holds and what its fields mean, for people editing it


# --- conditions.json -------------------------------------------------------------------------


class AncestorGroup(_Model):
    domain: Text
    ancestors: Texts


class ConditionEntry(_Model):
    name: Text
    mesh_term: Text
    groups: Texts
    ages: AgeProfile
    sex: Literal["FEMALE", "MALE"] | None
    weight: Weight
    keywords: Texts


class ConditionsFile(_File):
    ancestor_groups: dict[str, AncestorGroup]
    conditions: Annotated[tuple[ConditionEntry, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _groups_exist_and_names_are_unique(self) -> ConditionsFile:
        seen: set[str] = set()
        for index, entry in enumerate(self.conditions):
            for group in entry.groups:
                if group not in self.ancestor_groups:
                    raise ValueError(
                        f'conditions[{index}] "{entry.name}": group "{group}" is not one of '
                        "ancestor_groups"
                    )
            if entry.name in seen:
                raise ValueError(f'conditions[{index}] "{entry.name}": the name is listed twice')
            seen.add(entry.name)
        return self


# --- cities.json ---------------------------------------------------------------------------


class CityEntry(_Model):
    city: Text
    state: Text | None
    zip: Text | None
    country: Text
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    weight: Weight
    phone_area: Text

    @model_validator(mode="after")
    def _north_american_area_codes(self) -> CityEntry:
        area = self.phone_area
        if self.country in NANP_COUNTRIES and not (len(area) == 3 and area.isdigit()):
            raise ValueError(
                f'phone_area "{area}": in {self.country} it must be a three-digit area code, '
                "completed as 555-01xx (numbers reserved for fiction)"
            )
        return self


class CitiesFile(_File):
    cities: Annotated[tuple[CityEntry, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _places_are_unique(self) -> CitiesFile:
        seen: set[tuple[str, str | None, str]] = set()
        for index, entry in enumerate(self.cities):
            place = (entry.city, entry.state, entry.country)
            if place in seen:
                raise ValueError(f'cities[{index}] "{entry.city}": the place is listed twice')
            seen.add(place)
        return self


# --- people.json, organisations.json, interventions.json ----------------------------------


class Credential(_Model):
    text: str
    copies: Annotated[int, Field(ge=1)]


class Team(_Model):
    name: Text
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+$")]


class PeopleFile(_File):
    first_names: Annotated[tuple[Name, ...], Field(min_length=1)]
    last_names: Annotated[tuple[Name, ...], Field(min_length=1)]
    credentials: Annotated[tuple[Credential, ...], Field(min_length=1)]
    teams: Annotated[tuple[Team, ...], Field(min_length=1)]
    central_email_domains: Annotated[tuple[ExampleDomain, ...], Field(min_length=1)]


class OrganisationsFile(_File):
    place_words: Texts
    facility_kinds: Texts
    child_facility_kinds: Texts
    academic_kinds: Texts
    industry_sponsors: Texts
    government_sponsors: Texts
    network_sponsors: Texts


class NonDrugIntervention(_Model):
    title: Text  # for titles: "Home-based Exercise Program"
    text: Text  # for sentences: "a home-based exercise program"


class InterventionsFile(_File):
    drug_stems: Texts
    drug_suffixes: Texts
    drug_code_prefixes: Texts
    non_drug: Annotated[tuple[NonDrugIntervention, ...], Field(min_length=1)]


# --- texts.json ----------------------------------------------------------------------------


class ByKind(_Model):
    observational: Annotated[tuple[StudyTemplate, ...], Field(min_length=1)]
    drug: Annotated[tuple[StudyTemplate, ...], Field(min_length=1)]
    non_drug: Annotated[tuple[StudyTemplate, ...], Field(min_length=1)]


class TextsFile(_File):
    titles: ByKind
    acronyms: Texts
    drug_designs: Texts
    drug_aims: Texts
    fictional_notes: Annotated[tuple[FictionalNote, ...], Field(min_length=1)]
    purposes: ByKind
    placebo_sentence: Text
    detail_sentences: Annotated[tuple[DetailTemplate, ...], Field(min_length=1)]
    description_paragraphs: Annotated[tuple[ParagraphTemplate, ...], Field(min_length=1)]


# --- eligibility.json ----------------------------------------------------------------------


class AgeChoice(_Model):
    age: Age
    weight: Weight


class AgeRange(_Model):
    min: Age
    max: Age
    weight: Weight

    @model_validator(mode="after")
    def _max_above_min(self) -> AgeRange:
        low, high = age_in_years(self.min), age_in_years(self.max)
        if low is not None and high is not None and high <= low:
            raise ValueError(f'"{self.max}" is not above "{self.min}"')
        return self


class Ages(_Model):
    adult_min: Annotated[tuple[AgeChoice, ...], Field(min_length=1)]
    adult_max: Annotated[tuple[AgeChoice, ...], Field(min_length=1)]
    older_min: Annotated[tuple[AgeChoice, ...], Field(min_length=1)]
    older_max: Annotated[tuple[AgeChoice, ...], Field(min_length=1)]
    repro_min: Annotated[tuple[AgeChoice, ...], Field(min_length=1)]
    repro_max: Annotated[tuple[AgeChoice, ...], Field(min_length=1)]
    child_ranges: Annotated[tuple[AgeRange, ...], Field(min_length=1)]
    span_ranges: Annotated[tuple[AgeRange, ...], Field(min_length=1)]


class Inclusion(_Model):
    generic: Annotated[tuple[InclusionTemplate, ...], Field(min_length=1)]
    oncology: Texts
    child: Texts
    female: Texts


class OrganFunction(_Model):
    heading: Text
    items: Texts


class Exclusion(_Model):
    generic: Annotated[tuple[Text, ...], Field(min_length=2)]
    oncology: Texts

    @model_validator(mode="after")
    def _fallback_is_not_about_pregnancy(self) -> Exclusion:
        # The generator drops "Pregnant..." exclusions for men, children and pregnancy
        # studies, and falls back on the second generic entry when nothing is left.
        if self.generic[1].startswith("Pregnant"):
            raise ValueError(
                "generic[1] stands in when a pregnancy exclusion is dropped, so it must not "
                'start with "Pregnant"'
            )
        return self


class Headings(_Model):
    inclusion: Text
    exclusion: Text


class StyleChoice(_Model):
    style: CriteriaStyle
    weight: Weight


class EligibilityFile(_File):
    ages: Ages
    inclusion: Inclusion
    organ_function: OrganFunction
    exclusion: Exclusion
    headings: Annotated[tuple[Headings, ...], Field(min_length=1)]
    styles: Annotated[tuple[StyleChoice, ...], Field(min_length=1)]


# --- mix.json ------------------------------------------------------------------------------


class StatusChoice(_Model):
    status: GeneratedStatus
    weight: Weight


class PhaseChoice(_Model):
    phases: Annotated[tuple[Phase, ...], Field(min_length=1)]
    text: str  # "Phase 1/2", as an official title says it
    weight: Weight


class SiteCountChoice(_Model):
    sites: Annotated[int, Field(ge=1)]
    weight: Weight


class MixFile(_File):
    statuses: Annotated[tuple[StatusChoice, ...], Field(min_length=1)]
    other_site_statuses: Annotated[tuple[Status, ...], Field(min_length=1)]
    phases: Annotated[tuple[PhaseChoice, ...], Field(min_length=1)]
    site_counts: Annotated[tuple[SiteCountChoice, ...], Field(min_length=1)]


# --- loading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Everything the generator draws from, as the data files give it, in their order."""

    conditions: tuple[Condition, ...]
    cities: tuple[City, ...]
    people: PeopleFile
    organisations: OrganisationsFile
    interventions: InterventionsFile
    texts: TextsFile
    eligibility: EligibilityFile
    mix: MixFile


FILES: Final[dict[str, type[_File]]] = {
    "conditions.json": ConditionsFile,
    "cities.json": CitiesFile,
    "people.json": PeopleFile,
    "organisations.json": OrganisationsFile,
    "interventions.json": InterventionsFile,
    "texts.json": TextsFile,
    "eligibility.json": EligibilityFile,
    "mix.json": MixFile,
}
"""Every data file and the model that checks it."""


def load_vocabulary(directory: Path = DATA_DIR) -> Vocabulary:
    """Read and check every data file in `directory`; the result is cached per directory.

    Raises VocabularyError, naming the file and the entry, for anything the generator could
    not use.
    """
    return _load(directory.resolve())


@functools.cache
def _load(directory: Path) -> Vocabulary:
    return Vocabulary(
        conditions=_conditions(_read(directory, "conditions.json", ConditionsFile)),
        cities=_cities(_read(directory, "cities.json", CitiesFile)),
        people=_read(directory, "people.json", PeopleFile),
        organisations=_read(directory, "organisations.json", OrganisationsFile),
        interventions=_read(directory, "interventions.json", InterventionsFile),
        texts=_read(directory, "texts.json", TextsFile),
        eligibility=_read(directory, "eligibility.json", EligibilityFile),
        mix=_read(directory, "mix.json", MixFile),
    )


def _read(directory: Path, name: str, model: type[F]) -> F:
    path = directory / name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VocabularyError(f"demo data file {path} cannot be read: {exc}") from exc
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise VocabularyError(_describe(path, text, exc)) from None


_LABEL_KEYS: Final = ("name", "city", "status", "style", "title", "age", "min", "sites")
_SHOWN_ERRORS: Final = 5


def _describe(path: Path, text: str, exc: ValidationError) -> str:
    """Each problem as `where: what`, where names the entry by index and by its name."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = None
    errors = exc.errors()
    lines = [f"demo data file {path} is invalid:"]
    for error in errors[:_SHOWN_ERRORS]:
        if error["type"] == "json_invalid":
            lines.append(f"  not JSON: {error['ctx']['error']}")
        else:
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"  {_where(data, error['loc'])}: {message}")
    if len(errors) > _SHOWN_ERRORS:
        lines.append(f"  ... and {len(errors) - _SHOWN_ERRORS} more")
    return "\n".join(lines)


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "the file as a whole"
    parts: list[str] = []
    node = data
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and -len(node) <= step < len(node) else None
            label = _label(node)
            if label:
                parts.append(f" ({label})")
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts)


def _label(node: Any) -> str | None:
    """How a person would name this entry: its name, or its own text."""
    if isinstance(node, dict):
        for key in _LABEL_KEYS:
            value = node.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return json.dumps(value, ensure_ascii=False)
        return None
    if isinstance(node, str):
        return json.dumps(node if len(node) <= 60 else node[:57] + "...", ensure_ascii=False)
    return None


def _stable_id(term: str, used: dict[str, str]) -> str:
    """A fictional-looking MeSH-style ID ("D0" + 5 digits), stable per term."""
    if term in used:
        return used[term]
    number = zlib.crc32(term.encode()) % 100_000
    taken = set(used.values())
    while f"D0{number:05d}" in taken:
        number = (number + 1) % 100_000
    used[term] = f"D0{number:05d}"
    return used[term]


def _conditions(file: ConditionsFile) -> tuple[Condition, ...]:
    # IDs are handed out in file order, so a clash between two terms' checksums is settled
    # the same way on every run.
    ids: dict[str, str] = {}
    out = []
    for entry in file.conditions:
        ancestor_terms: list[str] = []
        for group in entry.groups:
            for ancestor in file.ancestor_groups[group].ancestors:
                if ancestor not in ancestor_terms and ancestor != entry.mesh_term:
                    ancestor_terms.append(ancestor)
        out.append(
            Condition(
                name=entry.name,
                mesh=(_stable_id(entry.mesh_term, ids), entry.mesh_term),
                ancestors=tuple((_stable_id(a, ids), a) for a in ancestor_terms),
                domain=file.ancestor_groups[entry.groups[0]].domain,
                ages=entry.ages,
                sex=entry.sex,
                keywords=entry.keywords,
                weight=entry.weight,
                pregnancy="pregnancy" in entry.groups,
            )
        )
    return tuple(out)


def _cities(file: CitiesFile) -> tuple[City, ...]:
    def city(entry: CityEntry) -> City:
        values = entry.model_dump(exclude={"phone_area"})
        return City(**values, area=entry.phone_area, nanp=entry.country in NANP_COUNTRIES)

    return tuple(city(entry) for entry in file.cities)
