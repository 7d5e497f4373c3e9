"""The search rules: one implementation for the results page and the JSON API.

Status, condition, age, sex and location are each a filter in one SQL statement; the
condition uses the engine's full-text index (SQLite FTS5, PostgreSQL tsvector) and the
location its spatial index (SQLite R*Tree, PostgreSQL GiST), so no search scans the
studies table. Only the statement's text-search and spatial parts differ per engine.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from app.geo.distance import EARTH_RADIUS_KM, bounding_boxes
from app.geo.places import AmbiguousPlace, Place, PlaceError, resolve_place
from app.studies.lay_names import alternatives, reading_groups, singular
from app.studies.models import SearchTerm, Site, Study
from app.studies.rules import DEFAULT_STATUSES, STATUSES
from app.studies.text import words

DEFAULT_RADIUS_KM = 100.0
MAX_PAGE_SIZE = 100
MAX_PAGE = 10000
"""The highest page number the search takes: the API refuses more, the results page shows
its last page instead (an absurd OFFSET would only keep the database counting)."""
# Words that carry no meaning for a condition. Both engines must ignore the same ones,
# or "cancer of the breast" would find "Breast Cancer" on one and not the other.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "without",
    ]
)
TYPO_MIN_LENGTH = 5
MAX_QUERY_WORDS = 12
RELATED_POOL = 40
REGISTRY_SAMPLE = 200
REGISTRY_MAX_TERMS = 8
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class SearchParams(BaseModel):
    """Validated search parameters; the same model for `/studies` and `/api/v1/studies`."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    condition: Annotated[str | None, Field(max_length=200)] = None
    age: Annotated[int | None, Field(ge=0, le=120)] = None
    sex: Literal["female", "male", "any"] | None = None
    location: Annotated[str | None, Field(max_length=200)] = None
    lat: Annotated[float | None, Field(ge=-90, le=90, allow_inf_nan=False)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180, allow_inf_nan=False)] = None
    radius_km: Annotated[float, Field(gt=0, le=20000, allow_inf_nan=False)] = DEFAULT_RADIUS_KM
    status: list[str] = Field(default_factory=lambda: list(DEFAULT_STATUSES))
    page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1
    page_size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = 20

    @field_validator("condition", "location", mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("condition", mode="after")
    @classmethod
    def _condition_has_words(cls, value: str | None) -> str | None:
        # Listings are in English; a condition with no letter or digit we can match
        # (symbols, another script) would otherwise silently match every study.
        if value is not None and not words(value):
            raise ValueError(
                "We could not read that condition. Please type it in English letters, "
                'for example "breast cancer".'
            )
        return value

    @field_validator("sex", mode="before")
    @classmethod
    def _sex_lower(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return value or None
        return value

    @field_validator("age", "lat", "lon", mode="before")
    @classmethod
    def _blank_number(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("status", mode="before")
    @classmethod
    def _split_status(cls, value: Any) -> Any:
        if value is None:
            return list(DEFAULT_STATUSES)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            return items
        parts = [p.strip().upper() for item in items for p in str(item).split(",")]
        parts = [p for p in parts if p]
        unknown = [p for p in parts if p not in STATUSES]
        if unknown:
            raise ValueError(
                f"unknown status {', '.join(unknown)}; use one of {', '.join(STATUSES)}"
            )
        return list(dict.fromkeys(parts)) or list(DEFAULT_STATUSES)

    @model_validator(mode="after")
    def _lat_lon_together(self) -> SearchParams:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


@dataclass(frozen=True)
class NearestSite:
    id: int
    facility: str | None
    city: str | None
    state: str | None
    country: str | None
    distance_km: float
    status: str | None = None
    """The site's own status: a recruiting study's nearest site may not have opened yet."""


@dataclass(frozen=True)
class SearchHit:
    study: Study
    nearest_site: NearestSite | None


@dataclass(frozen=True)
class SearchResult:
    total: int
    page: int
    page_size: int
    hits: list[SearchHit]
    origin: Place | None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


@dataclass(frozen=True)
class PlaceProblem:
    """Why a place could not be used, as both the results page and the API say it."""

    field: str  # the parameter to fix
    message: str  # written for a patient
    options: list[str]  # places the patient may have meant, when the name was ambiguous

    @classmethod
    def of(cls, error: PlaceError) -> PlaceProblem:
        options = error.options if isinstance(error, AmbiguousPlace) else []
        return cls("location", str(error), list(options))


YOUR_LOCATION = "your location"


def resolve_origin(params: SearchParams) -> Place | None:
    """The point distances are measured from; raises PlaceError for an unknown place."""
    if params.lat is not None and params.lon is not None:
        # A position from the patient's device has no name; coordinates mean nothing to
        # a reader, so pages say "within 100 km of your location".
        return Place(label=YOUR_LOCATION, lat=params.lat, lon=params.lon)
    if params.location:
        return resolve_place(params.location)
    return None


# --- condition -------------------------------------------------------------------------


def _edits1(word: str) -> set[str]:
    """Every string one deletion, transposition, substitution or insertion from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    inserts = {a + c + b for a, b in splits for c in _ALPHABET}
    return (deletes | transposes | replaces | inserts) - {word}


def _is_one_edit(a: str, b: str) -> bool:
    return b in _edits1(a)


def _typo_alternatives(session: Session, word: str) -> list[str]:
    """Known words one typo away from `word` when `word` itself is not known."""
    if len(word) < TYPO_MIN_LENGTH:
        return []
    if session.get(SearchTerm, word) is not None:
        return []
    if session.get_bind().dialect.name == "postgresql":
        # The trigram index narrows the vocabulary; the edit check makes it exact.
        session.execute(text("SET LOCAL pg_trgm.similarity_threshold = 0.3"))
        rows = session.scalars(
            select(SearchTerm.term)
            .where(SearchTerm.term.op("%")(word))
            .order_by(func.similarity(SearchTerm.term, word).desc())
            .limit(50)
        )
        return sorted(t for t in rows if _is_one_edit(word, t))
    candidates = sorted(_edits1(word))
    return list(session.scalars(select(SearchTerm.term).where(SearchTerm.term.in_(candidates))))


def condition_groups(session: Session, condition: str) -> list[list[str]]:
    """The query as AND-ed groups of OR-ed words (each word with its one-typo neighbours)."""
    tokens = words(condition)
    meaningful = [t for t in tokens if t not in STOP_WORDS] or tokens
    groups = []
    for token in list(dict.fromkeys(meaningful))[:MAX_QUERY_WORDS]:
        groups.append([token, *_typo_alternatives(session, token)])
    return groups


@dataclass(frozen=True)
class TextQuery:
    """A full-text condition in each engine's syntax (FTS5 MATCH, PostgreSQL tsquery)."""

    fts5: str
    tsquery: str

    @classmethod
    def all_of(cls, groups: Sequence[Sequence[str]]) -> TextQuery:
        """Every group must match; a group matches when any of its words does."""
        # Words are [a-z0-9]+ after normalisation, so quoting them is enough to keep FTS5
        # syntax (AND, OR, NEAR, column filters) out of the patient's text.
        return cls(
            fts5=" AND ".join("(" + " OR ".join(f'"{w}"' for w in g) + ")" for g in groups),
            tsquery=" & ".join("(" + " | ".join(g) + ")" for g in groups),
        )

    @classmethod
    def any_of(cls, queries: Sequence[TextQuery]) -> TextQuery:
        """Any of the queries matches."""
        if len(queries) == 1:
            return queries[0]
        return cls(
            fts5=" OR ".join(f"({q.fts5})" for q in queries),
            tsquery=" | ".join(f"({q.tsquery})" for q in queries),
        )

    @classmethod
    def any_phrase(cls, phrases: Sequence[str]) -> TextQuery | None:
        """Any of the phrases, words adjacent and in order ("See also" uses it)."""
        tokens = [w for w in (words(p) for p in phrases) if w]
        kept = [[t for t in p if t not in STOP_WORDS] or p for p in tokens]
        if not kept:
            return None
        return cls(
            fts5=" OR ".join('"' + " ".join(p) + '"' for p in kept),
            tsquery=" | ".join("(" + " <-> ".join(p) + ")" for p in kept),
        )


# --- location --------------------------------------------------------------------------

_site_geo = table(
    "site_geo",
    Column("id", Integer),
    Column("min_lat", Float),
    Column("max_lat", Float),
    Column("min_lon", Float),
    Column("max_lon", Float),
    Column("min_status", Integer),
    Column("max_status", Integer),
    Column("min_study", Integer),
)


def status_code(status: str) -> int:
    """The R*Tree's code for a status (the SQLite migration maps statuses the same way)."""
    return STATUSES.index(status) + 1


def distance_km_sql(dialect: str, lat: Any, lon: Any, origin: Place) -> ColumnElement[float]:
    """Haversine distance in SQL, so the database can order and limit by it."""
    phi0, lam0 = math.radians(origin.lat), math.radians(origin.lon)
    half_dphi = func.sin((func.radians(lat) - phi0) / 2)
    half_dlam = func.sin((func.radians(lon) - lam0) / 2)
    h = half_dphi * half_dphi + math.cos(phi0) * func.cos(func.radians(lat)) * half_dlam * half_dlam
    # Rounding can push h a hair above 1 for antipodal points; asin must not see that.
    clamped = func.min(h, 1.0) if dialect == "sqlite" else func.least(h, 1.0)
    return (2 * EARTH_RADIUS_KM) * func.asin(func.sqrt(clamped))


def _nearby_sites(dialect: str, origin: Place, radius_km: float, statuses: list[str]) -> Any:
    """Sites within the radius whose effective status is wanted: (study_id, site_id, km)."""
    if dialect == "sqlite":
        g = _site_geo.c
        boxes = [
            and_(g.max_lat >= lo_lat, g.min_lat <= hi_lat, g.max_lon >= lo_lon, g.min_lon <= hi_lon)
            for lo_lat, hi_lat, lo_lon, hi_lon in bounding_boxes(origin.lat, origin.lon, radius_km)
        ]
        # A point is stored as a box of zero size, widened by at most one 32-bit float step;
        # the middle of the box is the point to well under a metre.
        lat, lon = (g.min_lat + g.max_lat) / 2, (g.min_lon + g.max_lon) / 2
        codes = [status_code(s) for s in statuses]
        distance = distance_km_sql(dialect, lat, lon, origin)
        candidates = select(
            g.min_study.label("study_id"), g.id.label("site_id"), distance.label("distance_km")
        ).where(
            or_(*boxes),
            # The range lets the R*Tree prune by status; IN then drops codes in between.
            g.max_status >= min(codes),
            g.min_status <= max(codes),
            g.min_status.in_(codes),
        )
    else:
        point = func.point(Site.lon, Site.lat)
        boxes = [
            point.op("<@")(func.box(func.point(lo_lon, lo_lat), func.point(hi_lon, hi_lat)))
            for lo_lat, hi_lat, lo_lon, hi_lon in bounding_boxes(origin.lat, origin.lon, radius_km)
        ]
        distance = distance_km_sql(dialect, Site.lat, Site.lon, origin)
        candidates = (
            select(Site.study_id, Site.id.label("site_id"), distance.label("distance_km"))
            .join(Study, Study.id == Site.study_id)
            .where(Site.lat.is_not(None), Site.lon.is_not(None), or_(*boxes))
            .where(Site.effective_status.in_(statuses))
        )
    inner = candidates.subquery("candidates")
    ranked = (
        select(
            inner.c.study_id,
            inner.c.site_id,
            inner.c.distance_km,
            func.row_number()
            .over(partition_by=inner.c.study_id, order_by=(inner.c.distance_km, inner.c.site_id))
            .label("rn"),
        )
        .where(inner.c.distance_km <= radius_km)
        .subquery("ranked")
    )
    return (
        select(ranked.c.study_id, ranked.c.site_id, ranked.c.distance_km)
        .where(ranked.c.rn == 1)
        .subquery("nearest")
    )


# --- the search ------------------------------------------------------------------------


def _study_filters(params: SearchParams) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = [Study.overall_status.in_(params.status)]
    if params.age is not None:
        # A patient aged A (whole years) matches when A + 1 > minimum and A <= maximum:
        # "18 Years" as a minimum admits 18-year-olds, "17 Years" as a maximum admits 17.
        filters.append(or_(Study.min_age_years.is_(None), Study.min_age_years < params.age + 1))
        filters.append(or_(Study.max_age_years.is_(None), Study.max_age_years >= params.age))
    if params.sex in ("female", "male"):
        filters.append(Study.sex.in_([params.sex.upper(), "ALL"]))
    return filters


def admits(
    *,
    age: int | None,
    sex: str | None,
    study_sex: str,
    min_age_years: float | None,
    max_age_years: float | None,
) -> bool:
    """`_study_filters`' age and sex rule in Python, for alerts that check many studies
    against many searches at once; a test holds the two to the same answers."""
    if age is not None:
        if min_age_years is not None and not min_age_years < age + 1:
            return False
        if max_age_years is not None and not max_age_years >= age:
            return False
    return sex not in ("female", "male") or study_sex in (sex.upper(), "ALL")


def studies_matching(session: Session, condition: str, among: Collection[int]) -> set[int]:
    """Which of the studies `among` the site's search finds for `condition`.

    Patient alerts ask this once per distinct condition, about the studies new since their
    last digest, instead of searching the whole registry once per alert.
    """
    query = condition_query(session, condition)
    if query is None or not among:
        return set()
    ids = list(among)
    if session.get_bind().dialect.name == "sqlite":
        found: set[int] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = session.execute(
                text(
                    "SELECT rowid FROM study_fts WHERE study_fts MATCH :match "
                    "AND rowid IN (SELECT value FROM json_each(:ids))"
                ),
                {"match": query.text.fts5, "ids": json.dumps(chunk)},
            )
            found.update(int(r[0]) for r in rows)
        return found
    tsquery = func.to_tsquery(literal_column("'trialfinder'::regconfig"), query.text.tsquery)
    vector: ColumnElement[Any] = literal_column("studies.search_vector")
    return set(session.scalars(select(Study.id).where(Study.id.in_(ids), vector.op("@@")(tsquery))))


@dataclass(frozen=True)
class ConditionQuery:
    """What a condition searches: the full-text query, and the phrases that rank first."""

    text: TextQuery
    phrases: list[list[str]]
    """The condition as typed and each reading of it, as words: a study that names one of
    them whole ranks above a study whose words only scatter over other conditions."""


def condition_query(session: Session, condition: str) -> ConditionQuery | None:
    """The condition as typed (typos forgiven), or as any lay name in it means.

    "high blood pressure in pregnancy" also finds "hypertension pregnancy": the lay phrase
    is replaced by each medical phrase it means (app/studies/lay_names.py), and a study
    matching any of the readings is found.
    """
    groups = condition_groups(session, condition)
    if not groups:
        return None
    queries = [TextQuery.all_of(groups)]
    typed = words(condition)
    phrases = [typed]
    for tokens in [*alternatives(typed), *registry_readings(session, condition)]:
        kept = [t for t in tokens if t not in STOP_WORDS] or tokens
        queries.append(TextQuery.all_of(reading_groups(list(dict.fromkeys(kept)))))
        phrases.append(tokens)
    return ConditionQuery(TextQuery.any_of(queries), phrases)


def registry_readings(session: Session, condition: str) -> list[list[str]]:
    """The MeSH terms the registry gives studies whose conditions are written as `condition`.

    Sponsors type conditions in their own words ("Heartburn", "Kidney Stones"); the registry
    maps each study's conditions to MeSH terms. A term given to at least two and at least
    half of the studies (of the first REGISTRY_SAMPLE) whose conditions contain the phrase
    is what the phrase means, and studies filed under that term are found too, however
    their sponsors wrote it.
    """
    tokens = words(condition)
    kept = [t for t in tokens if t not in STOP_WORDS]
    if not kept:
        return []
    if session.get_bind().dialect.name == "sqlite":
        phrase = " ".join(kept)
        rows = session.execute(
            text(
                "SELECT s.mesh_terms FROM study_fts JOIN studies s ON s.id = study_fts.rowid "
                "WHERE study_fts MATCH :match LIMIT :limit"
            ),
            {"match": f'search_conditions : "{phrase}"', "limit": REGISTRY_SAMPLE},
        )
        samples = [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]
    else:
        phrase = " <-> ".join(f"{t}:A" for t in kept)
        tsquery = func.to_tsquery(literal_column("'trialfinder'::regconfig"), phrase)
        vector: ColumnElement[Any] = literal_column("studies.search_vector")
        samples = list(
            session.scalars(
                select(Study.mesh_terms).where(vector.op("@@")(tsquery)).limit(REGISTRY_SAMPLE)
            )
        )
    # A study filed under many terms (a registry of rheumatic diseases) says little about
    # what any one phrase means, and one study alone is an anecdote.
    focused = [terms for terms in samples if len(terms) <= REGISTRY_MAX_TERMS]
    counts = Counter(term for terms in focused for term in set(terms))
    meant = [term for term, n in counts.items() if n >= 2 and 2 * n >= len(focused)]
    readings = [words(term) for term in sorted(meant)]
    return [r for r in readings if r and r != kept]


def search_studies(
    session: Session, params: SearchParams, *, origin: Place | None = None
) -> SearchResult:
    """One page of studies matching `params`, nearest first when `origin` is given."""
    condition = condition_query(session, params.condition) if params.condition else None
    about = [w for w in words(params.condition or "") if w not in STOP_WORDS]
    if condition is None:
        return _search(session, params, origin, None, about=about)
    return _search(session, params, origin, condition.text, about=about, phrases=condition.phrases)


def related_studies(
    session: Session, study: Study, *, origin: Place | None = None, limit: int = 5
) -> list[SearchHit]:
    """Recruiting studies sharing a condition or MeSH term, nearest first with a place.

    The most relevant few dozen are taken first and only those are ordered by distance:
    a whole-world radius search on every study page would cost far more than it adds.
    """
    query = TextQuery.any_phrase(study.conditions + study.mesh_terms)
    if query is None:
        return []
    pool = _search(session, SearchParams(page_size=RELATED_POOL), None, query, exclude=study.id)
    if origin is None:
        return pool.hits[:limit]
    nearest = nearest_open_sites(session, [hit.study.id for hit in pool.hits], origin)
    measured = [SearchHit(hit.study, nearest.get(hit.study.id)) for hit in pool.hits]
    measured.sort(key=lambda h: h.nearest_site.distance_km if h.nearest_site else math.inf)
    return measured[:limit]


def nearest_open_sites(
    session: Session,
    study_ids: Sequence[int],
    origin: Place,
    statuses: Sequence[str] = DEFAULT_STATUSES,
) -> dict[int, NearestSite]:
    """Each study's nearest site whose effective status is one of `statuses`, in one query.

    The distances are worked out in SQL over these studies' sites only, however many
    sites a study lists.
    """
    if not study_ids:
        return {}
    dialect = session.get_bind().dialect.name
    km = distance_km_sql(dialect, Site.lat, Site.lon, origin)
    ranked = (
        select(
            Site.id,
            km.label("km"),
            func.row_number().over(partition_by=Site.study_id, order_by=(km, Site.id)).label("rn"),
        )
        .join(Study, Study.id == Site.study_id)
        .where(Site.study_id.in_(study_ids), Site.lat.is_not(None), Site.lon.is_not(None))
        .where(Site.effective_status.in_(statuses))
        .subquery()
    )
    rows = session.execute(
        select(Site, ranked.c.km).join(ranked, ranked.c.id == Site.id).where(ranked.c.rn == 1)
    )
    return {
        site.study_id: NearestSite(
            site.id, site.facility, site.city, site.state, site.country, round(float(distance), 1)
        )
        for site, distance in rows
    }


EXCLUSION_PHRASES = ("excluding", "other than", "except", "not including", "non")


def _names_whole(phrases: Sequence[Sequence[str]]) -> ColumnElement[int]:
    """0 for a study whose conditions or MeSH terms name one of the phrases whole, else 1.

    "bowel cancer" should first bring the studies about colorectal cancer, then a registry
    whose many conditions merely include "Inflammatory Bowel Diseases" and some cancer.
    The last word may go on ("neoplasm" meets "neoplasms").
    """
    texts = [" ".join([*p[:-1], singular(p[-1])]) for p in phrases if p]
    columns = (Study.search_conditions, Study.search_mesh)
    named = [c.like(start + t + "%") for c in columns for t in texts for start in ("", "% ")]
    return case((or_(*named), 0), else_=1) if named else literal_column("1")


def _excluding(about: Sequence[str]) -> ColumnElement[int]:
    """1 for a study that names a query word only to exclude it ("Any Tumor Excluding
    Breast"), else 0: such studies are still found, after the ones about the word."""
    phrases = [f"{p} {w}%" for w in about for p in EXCLUSION_PHRASES]
    columns = (Study.search_conditions, Study.search_title)
    # Indexed text is lower-case words and single spaces, so a word starts the text or
    # follows a space.
    named = [c.like(start + p) for c in columns for p in phrases for start in ("", "% ")]
    return case((or_(*named), 1), else_=0)


def _search(
    session: Session,
    params: SearchParams,
    origin: Place | None,
    query: TextQuery | None,
    exclude: int | None = None,
    about: Sequence[str] = (),
    phrases: Sequence[Sequence[str]] = (),
) -> SearchResult:
    dialect = session.get_bind().dialect.name
    columns: list[Any] = [Study.id]
    stmt: Any
    order: list[Any] = []

    nearest = None
    if origin is not None:
        nearest = _nearby_sites(dialect, origin, params.radius_km, params.status)
        columns += [nearest.c.site_id, nearest.c.distance_km]
    else:
        columns += [literal_column("NULL").label("site_id"), literal_column("NULL").label("d")]
    stmt = select(*columns, func.count().over().label("total")).where(*_study_filters(params))
    if nearest is not None:
        stmt = stmt.join(nearest, nearest.c.study_id == Study.id)
        order = [nearest.c.distance_km, Study.id]

    if exclude is not None:
        stmt = stmt.where(Study.id != exclude)

    relevance: list[Any] = []
    if query is not None and dialect == "sqlite":
        fts = (
            text(
                "SELECT rowid AS id, bm25(study_fts, 10.0, 4.0, 2.0) AS rank "
                "FROM study_fts WHERE study_fts MATCH :match"
            )
            .bindparams(bindparam("match", query.fts5))
            .columns(id=Integer, rank=Float)
            # Materialised, so SQLite runs the full-text query once instead of probing
            # the FTS index for every study that passes the other filters.
            .cte("fts")
            .prefix_with("MATERIALIZED")
        )
        stmt = stmt.join(fts, fts.c.id == Study.id)
        relevance = [fts.c.rank]
    elif query is not None:
        tsquery = func.to_tsquery(literal_column("'trialfinder'::regconfig"), query.tsquery)
        vector: ColumnElement[Any] = literal_column("studies.search_vector")
        stmt = stmt.where(vector.op("@@")(tsquery))
        relevance = [func.ts_rank(vector, tsquery).desc()]
    if relevance and phrases:
        relevance = [_names_whole(phrases), *relevance]
    if relevance and about:
        relevance = [_excluding(about), *relevance]
    if relevance:
        if nearest is not None:
            # Registry sites sit at city centres, so many studies tie at 0.0 km: within the
            # same kilometre, the more relevant study comes first.
            order = [func.floor(nearest.c.distance_km), *relevance, *order]
        else:
            order = [*relevance, Study.id]
    order = order or [Study.last_updated.desc(), Study.id]

    offset = (params.page - 1) * params.page_size
    rows = session.execute(stmt.order_by(*order).limit(params.page_size).offset(offset)).all()
    if rows:
        total = int(rows[0].total)
    elif params.page == 1:
        total = 0
    else:  # past the last page: the window count came back with no row to carry it
        total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    studies = {
        s.id: s for s in session.scalars(select(Study).where(Study.id.in_([r[0] for r in rows])))
    }
    site_ids = [r[1] for r in rows if r[1] is not None]
    sites = (
        {s.id: s for s in session.scalars(select(Site).where(Site.id.in_(site_ids)))}
        if site_ids
        else {}
    )
    hits = []
    for row in rows:
        site = sites.get(row[1]) if row[1] is not None else None
        nearest_site = None
        if site is not None:
            nearest_site = NearestSite(
                id=site.id,
                facility=site.facility,
                city=site.city,
                state=site.state,
                country=site.country,
                distance_km=round(float(row[2]), 1),
                status=site.effective_status,
            )
        hits.append(SearchHit(study=studies[row[0]], nearest_site=nearest_site))
    return SearchResult(
        total=total, page=params.page, page_size=params.page_size, hits=hits, origin=origin
    )
