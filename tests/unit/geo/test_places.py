"""What a patient sees when typing a place: the right city, a clear question, or a hint."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.geo import (
    GEONAMES_CREDIT,
    AmbiguousPlace,
    Place,
    PlaceError,
    PlaceNotFound,
    haversine_km,
    places,
    resolve_place,
    warm_up,
)


@pytest.fixture(scope="module", autouse=True)
def _indexes_built() -> None:
    warm_up()


def assert_near(place: Place, lat: float, lon: float, km: float = 30) -> None:
    assert haversine_km(place.lat, place.lon, lat, lon) < km, place


@pytest.mark.parametrize(
    ("text", "label", "lat", "lon"),
    [
        ("Beijing", "Beijing, China", 39.9, 116.4),
        ("Xinxiang", "Xinxiang, China", 35.2, 113.8),
        ("Paris", "Paris, France", 48.86, 2.35),
        ("Paris, France", "Paris, France", 48.86, 2.35),
        ("Paris, TX", "Paris, Texas, United States", 33.66, -95.56),
        ("Paris, Texas", "Paris, Texas, United States", 33.66, -95.56),
        ("Paris Texas", "Paris, Texas, United States", 33.66, -95.56),
        ("Springfield, IL", "Springfield, Illinois, United States", 39.8, -89.64),
        ("Springfield, Illinois", "Springfield, Illinois, United States", 39.8, -89.64),
        ("Zürich", "Zürich, Switzerland", 47.37, 8.55),
        ("Zurich", "Zürich, Switzerland", 47.37, 8.55),
        ("Sao Paulo", "São Paulo, Brazil", -23.55, -46.63),
        ("São Paulo", "São Paulo, Brazil", -23.55, -46.63),
        ("München", "Munich, Germany", 48.14, 11.58),
        ("Munich", "Munich, Germany", 48.14, 11.58),
        ("New York", "New York City, New York, United States", 40.71, -74.0),
        ("new york, ny", "New York City, New York, United States", 40.71, -74.0),
        ("London", "London, England, United Kingdom", 51.51, -0.13),
        ("London, Canada", "London, Ontario, Canada", 42.98, -81.23),
        ("London, ON", "London, Ontario, Canada", 42.98, -81.23),
        ("Washington, D.C.", "Washington, District of Columbia, United States", 38.9, -77.04),
        ("Perth, WA", "Perth, Western Australia, Australia", -31.95, 115.86),
        ("Edinburgh, Scotland", "Edinburgh, Scotland, United Kingdom", 55.95, -3.19),
        ("Seoul, Korea", "Seoul, South Korea", 37.57, 126.98),
        ("Tbilisi, Georgia", "Tbilisi, Georgia", 41.69, 44.83),
        ("Atlanta, Georgia, USA", "Atlanta, Georgia, United States", 33.75, -84.39),
        ("Munich, Bavaria, Germany", "Munich, Germany", 48.14, 11.58),
        ("Springfield, IL 62704", "Springfield, Illinois, United States", 39.8, -89.64),
    ],
)
def test_finds_the_place_meant(text: str, label: str, lat: float, lon: float) -> None:
    place = resolve_place(text)
    assert place.label == label
    assert_near(place, lat, lon)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Bombay", "Mumbai, India"),
        ("Peking", "Beijing, China"),
        ("Kiev", "Kyiv, Ukraine"),
        ("Lodz", "Łódź, Poland"),
        ("Xian", "Xi\u2019an, China"),
        ("Hà Nội", "Hanoi, Vietnam"),
        ("北京", "Beijing, China"),
        ("Москва", "Moscow, Russia"),
        ("St Louis, MO", "St. Louis, Missouri, United States"),
        ("Saint Louis, Missouri", "St. Louis, Missouri, United States"),
        ("Montreal", "Montréal, Quebec, Canada"),
    ],
)
def test_other_spellings_and_languages_are_understood(text: str, label: str) -> None:
    assert resolve_place(text).label == label


@pytest.mark.parametrize(
    "text",
    [
        "paris, tx",
        "  PARIS ,  Texas  ",
        "Paris,TX",
        "paris. texas",
        "PARÍS, TÉXAS",
        "Paris, Texas, U.S.A.",
    ],
)
def test_case_accents_spaces_and_punctuation_do_not_matter(text: str) -> None:
    assert resolve_place(text).label == "Paris, Texas, United States"


def test_small_us_towns_come_from_the_postal_data() -> None:
    place = resolve_place("Intercourse, PA")
    assert place.label == "Intercourse, Pennsylvania, United States"
    assert_near(place, 40.04, -76.11, km=10)


@pytest.mark.parametrize(
    ("text", "label", "lat", "lon"),
    [
        ("10001", "ZIP 10001 (New York, NY)", 40.75, -74.0),
        ("62704", "ZIP 62704 (Springfield, IL)", 39.77, -89.69),
        ("10001-1234", "ZIP 10001 (New York, NY)", 40.75, -74.0),
        (" 62704 ", "ZIP 62704 (Springfield, IL)", 39.77, -89.69),
        ("ZIP 62704 (Springfield, IL)", "ZIP 62704 (Springfield, IL)", 39.77, -89.69),
    ],
)
def test_us_zip_codes(text: str, label: str, lat: float, lon: float) -> None:
    place = resolve_place(text)
    assert place.label == label
    assert_near(place, lat, lon, km=5)


def test_unknown_zip_code_says_so() -> None:
    with pytest.raises(PlaceNotFound) as caught:
        resolve_place("00000")
    assert str(caught.value) == (
        'We could not find the ZIP code "00000". Check the number, or type a city name instead.'
    )


def test_zip_code_with_a_missing_digit_is_explained() -> None:
    with pytest.raises(PlaceNotFound, match="ZIP codes have 5 digits"):
        resolve_place("2134")


def test_springfield_alone_asks_for_the_state() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Springfield")
    error = caught.value
    assert str(error) == (
        'There are several places called "Springfield". Add the state or country, '
        'for example "Springfield, Missouri".'
    )
    assert error.options[:3] == [
        "Springfield, Missouri, United States",
        "Springfield, Massachusetts, United States",
        "Springfield, Illinois, United States",
    ]
    assert len(error.options) <= 5


def test_every_offered_option_resolves_to_itself() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Springfield")
    for option in caught.value.options:
        assert resolve_place(option).label == option


AMBIGUOUS_NAMES = [
    "Springfield",
    "Portland",
    "Kansas City",
    "Cologne",
    "Victoria",
    "St Louis",
    "Cambridge",
    "Richmond",
    "Columbus",
    "Frankfurt",
    "Birmingham",
    "Santiago",
    "San Jose",
    "Valencia",
]


@pytest.mark.parametrize("name", AMBIGUOUS_NAMES)
def test_every_way_out_of_an_ambiguity_works(name: str) -> None:
    """Each offered option, and the example in the message, must resolve without asking again."""
    try:
        resolve_place(name)
    except AmbiguousPlace as error:
        for option in error.options:
            assert resolve_place(option).label == option
        example = str(error).split("for example ")[1].strip('."')
        resolve_place(example)


@pytest.mark.parametrize(
    ("text", "label"),
    [("New Delhi", "New Delhi, India"), ("New Delhi, India", "New Delhi, India")],
)
def test_official_name_wins_over_an_alternate_name_in_the_same_country(
    text: str, label: str
) -> None:
    assert resolve_place(text).label == label


def test_ambiguity_within_a_country() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Kansas City, USA")
    assert caught.value.options == [
        "Kansas City, Missouri, United States",
        "Kansas City, Kansas, United States",
    ]


def test_a_far_larger_place_known_by_another_name_is_offered_not_chosen() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Cologne")
    assert caught.value.options == ["Köln, Germany", "Cologne, Italy"]
    assert resolve_place("Cologne, Germany").label == "Köln, Germany"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x01"])
def test_empty_input_asks_for_a_place(text: str) -> None:
    with pytest.raises(PlaceNotFound, match="Please type a city"):
        resolve_place(text)


def test_nonsense_is_not_found() -> None:
    with pytest.raises(PlaceNotFound) as caught:
        resolve_place("xyzzyqq")
    assert str(caught.value) == (
        'We could not find "xyzzyqq". Try a city name, "City, Country", or a US ZIP code.'
    )


def test_overlong_input_is_refused_kindly() -> None:
    with pytest.raises(PlaceNotFound, match="too long"):
        resolve_place("Springfield " * 20)


def test_city_not_in_the_named_country() -> None:
    with pytest.raises(PlaceNotFound) as caught:
        resolve_place("Paris, Germany")
    assert str(caught.value).startswith('We could not find a place called "Paris" in "Germany".')


def test_unknown_qualifier_explains_what_to_put_after_the_comma() -> None:
    with pytest.raises(PlaceNotFound, match="After the comma, type a country or a US state"):
        resolve_place("Xyzzyq, Lamar County")


def test_an_unknown_qualifier_on_a_name_with_namesakes_asks_which() -> None:
    with pytest.raises(AmbiguousPlace) as caught:
        resolve_place("Paris, Lamar County")
    assert "Paris, Texas, United States" in caught.value.options


def test_a_state_alone_asks_for_a_city_in_it() -> None:
    with pytest.raises(PlaceNotFound) as caught:
        resolve_place("Texas")
    assert str(caught.value) == (
        '"Texas" is a whole state or country. Type a city or town in it, for example '
        '"Houston, Texas", or a US ZIP code.'
    )


def test_errors_are_value_errors_with_a_message() -> None:
    assert issubclass(PlaceNotFound, PlaceError)
    assert issubclass(AmbiguousPlace, PlaceError)
    assert issubclass(PlaceError, ValueError)


def test_geonames_is_credited() -> None:
    assert GEONAMES_CREDIT == "Place names: GeoNames (geonames.org), CC BY 4.0"


def test_lookups_after_warm_up_take_well_under_a_millisecond() -> None:
    texts = ["Springfield, Illinois", "London", "new york, ny", "xyzzyqq", "Springfield", "62704"]
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            with contextlib.suppress(PlaceError):
                resolve_place(text)
    assert (time.perf_counter() - started) / (rounds * len(texts)) < 0.001


def test_concurrent_first_lookups_build_the_index_once(monkeypatch: pytest.MonkeyPatch) -> None:
    built = places._get_index()
    builds: list[int] = []

    def slow_build() -> places._Index:
        builds.append(1)
        time.sleep(0.05)
        return built

    monkeypatch.setattr(places, "_index", None)
    monkeypatch.setattr(places, "_build_index", slow_build)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolve_place("London").label))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [1]
    assert results == ["London, England, United Kingdom"] * 8


def pieces() -> st.SearchStrategy[str]:
    words = st.sampled_from(
        ["Paris", "springfield", "São", "TX", "Illinois", "10001", "ZIP", "the", "St.", "北京"]
    )
    glue = st.sampled_from([",", " ", ", ", "-", "(", ")", ".", "\x00", "\u200b", "'", ""])
    return st.lists(st.one_of(words, glue), max_size=12).map("".join)


@given(st.one_of(st.text(max_size=300), pieces()))
@example("x" * 1_000_000)
@example("\ud800, \udfff")
@example(",,,")
@example("ZIP 99999 (")
@example("00000-0000")
@example("١٢٣٤٥")
@settings(max_examples=300, deadline=None)
def test_any_text_gives_a_place_or_a_friendly_error(text: str) -> None:
    result = place_or_error(text)
    if isinstance(result, Place):
        assert result.label
        assert -90 <= result.lat <= 90
        assert -180 <= result.lon <= 180
    else:
        assert isinstance(result, (PlaceNotFound, AmbiguousPlace))
        assert str(result)
        if isinstance(result, AmbiguousPlace):
            assert 2 <= len(result.options) <= 5


def place_or_error(text: str) -> Place | PlaceError:
    """Only PlaceError is caught: any other exception fails the test."""
    try:
        return resolve_place(text)
    except PlaceError as error:
        return error


@pytest.mark.parametrize("country", ["India", "China", "USA", "Mexico", "France"])
def test_a_country_name_asks_for_a_city_rather_than_finding_a_namesake_town(country: str) -> None:
    with pytest.raises(PlaceNotFound, match="whole state or country"):
        resolve_place(country)


def test_a_city_state_is_still_a_city() -> None:
    assert resolve_place("Singapore").label == "Singapore, Singapore"


def test_an_unknown_region_falls_back_to_the_city_when_that_is_clear() -> None:
    assert resolve_place("Bangalore, Karnataka").label == "Bengaluru, India"
    with pytest.raises(AmbiguousPlace):
        resolve_place("Hyderabad, Telangana")
    with pytest.raises(PlaceNotFound, match="After the comma"):
        resolve_place("Xyzzyq, Karnataka")
