"""Distances shown to patients, and the boxes that must never drop a nearby trial site."""

from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.geo import EARTH_RADIUS_KM, bounding_boxes, haversine_km

latitudes = st.floats(min_value=-90, max_value=90)
longitudes = st.floats(min_value=-180, max_value=180)
radii = st.floats(min_value=0, max_value=21_000)


def destination(lat: float, lon: float, bearing: float, km: float) -> tuple[float, float]:
    """The point `km` away from (`lat`, `lon`) heading `bearing` degrees from north."""
    phi, angle, theta = math.radians(lat), km / EARTH_RADIUS_KM, math.radians(bearing)
    phi2 = math.asin(
        max(
            -1.0,
            min(
                1.0,
                math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(theta),
            ),
        )
    )
    lambda2 = math.radians(lon) + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(phi),
        math.cos(angle) - math.sin(phi) * math.sin(phi2),
    )
    lon2 = (math.degrees(lambda2) + 180.0) % 360.0 - 180.0
    return math.degrees(phi2), lon2


def covered(lat: float, lon: float, boxes: list[tuple[float, float, float, float]]) -> bool:
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in boxes)


def test_paris_to_london() -> None:
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343.5, abs=1)


def test_new_york_to_los_angeles() -> None:
    assert haversine_km(40.7128, -74.0060, 34.0522, -118.2437) == pytest.approx(3936, abs=5)


def test_same_point_is_zero() -> None:
    assert haversine_km(39.8, -89.6, 39.8, -89.6) == 0


def test_antipodes_are_half_the_circumference() -> None:
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_across_the_antimeridian_is_short() -> None:
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.1)


@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    there = haversine_km(a, b, c, d)
    assert there == pytest.approx(haversine_km(c, d, a, b), abs=1e-6)
    assert 0 <= there <= math.pi * EARTH_RADIUS_KM + 1e-6


@given(
    latitudes,
    longitudes,
    radii,
    st.floats(min_value=0, max_value=360),
    st.floats(min_value=0, max_value=1),
)
@example(89.99, 0.0, 50.0, 180.0, 1.0)  # the circle covers the north pole
@example(-89.5, 170.0, 100.0, 90.0, 1.0)  # ... the south pole
@example(0.0, 179.9, 100.0, 90.0, 1.0)  # crosses the antimeridian eastwards
@example(10.0, -179.95, 30.0, 270.0, 1.0)  # ... westwards
@example(45.0, 180.0, 1000.0, 0.0, 0.5)
@example(0.0, 0.0, 0.0, 0.0, 0.0)  # zero radius
@example(60.0, 0.0, 3335.0, 0.0, 1.0)  # circle ends just short of the pole
def test_boxes_contain_every_point_of_the_circle(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    point = destination(lat, lon, bearing, radius * fraction)
    if haversine_km(lat, lon, *point) > radius:
        return  # rounding put the point just outside the circle: nothing to check
    assert covered(*point, bounding_boxes(lat, lon, radius))


@given(latitudes, longitudes, radii, latitudes, longitudes)
def test_boxes_contain_random_points_within_the_radius(
    lat: float, lon: float, radius: float, point_lat: float, point_lon: float
) -> None:
    if haversine_km(lat, lon, point_lat, point_lon) <= radius:
        assert covered(point_lat, point_lon, bounding_boxes(lat, lon, radius))


@given(latitudes, st.floats(min_value=-720, max_value=720), radii)
def test_boxes_stay_on_the_map(lat: float, lon: float, radius: float) -> None:
    boxes = bounding_boxes(lat, lon, radius)
    assert 1 <= len(boxes) <= 2
    for min_lat, max_lat, min_lon, max_lon in boxes:
        assert -90 <= min_lat <= max_lat <= 90
        assert -180 <= min_lon <= max_lon <= 180


def test_circle_across_the_antimeridian_is_split_in_two() -> None:
    boxes = sorted(bounding_boxes(0, 179.9, 100))
    assert len(boxes) == 2
    (_, _, west_min, west_max), (_, _, east_min, east_max) = boxes
    assert west_min == -180
    assert west_max == pytest.approx(-179.2, abs=0.01)
    assert east_min == pytest.approx(179.0, abs=0.01)
    assert east_max == 180
    assert covered(0, -179.5, boxes)
    assert not covered(0, 0, boxes)


def test_circle_around_a_pole_spans_every_longitude() -> None:
    ((min_lat, max_lat, min_lon, max_lon),) = bounding_boxes(89.5, 10, 100)
    assert (max_lat, min_lon, max_lon) == (90, -180, 180)
    assert min_lat == pytest.approx(88.6, abs=0.01)


def test_box_is_tight_away_from_poles_and_antimeridian() -> None:
    one_degree_km = math.pi * EARTH_RADIUS_KM / 180
    ((min_lat, max_lat, min_lon, max_lon),) = bounding_boxes(0, 0, one_degree_km)
    for value in (-min_lat, max_lat, -min_lon, max_lon):
        assert value == pytest.approx(1, abs=1e-4)
    ((_, _, min_lon, max_lon),) = bounding_boxes(60, 0, one_degree_km)
    assert max_lon - min_lon == pytest.approx(4, abs=0.01)  # 1/cos(60°) each way


def test_radius_larger_than_the_earth_covers_the_whole_map() -> None:
    assert bounding_boxes(12, 34, 30_000) == [(-90, 90, -180, 180)]


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [
        (91, 0, 10),
        (-90.5, 0, 10),
        (0, 0, -1),
        (math.nan, 0, 10),
        (0, math.nan, 10),
        (0, 0, math.nan),
    ],
)
def test_impossible_circles_are_refused(lat: float, lon: float, radius: float) -> None:
    with pytest.raises(ValueError, match="invalid circle"):
        bounding_boxes(lat, lon, radius)
