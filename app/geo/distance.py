"""Great-circle distance and the boxes that pre-filter "within N km" searches.

A database cannot use an index on a haversine expression, so radius searches first
select rows whose coordinates fall inside `bounding_boxes` (plain range comparisons
an index can serve) and then keep only those `haversine_km` puts inside the circle.
The boxes therefore must never miss a point, including around the poles and across
the antimeridian; being a little too large is harmless.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the usual choice for a spherical model."""

Box = tuple[float, float, float, float]
"""`(min_lat, max_lat, min_lon, max_lon)` in degrees."""

# Widening the radius by ~6 mm (plus a relative part) absorbs the rounding of both
# this computation and the caller's haversine, even where asin is ill-conditioned.
_RADIUS_PAD_RELATIVE = 1e-9
_RADIUS_PAD_RADIANS = 1e-9
_MARGIN_DEGREES = 1e-7


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km along the Earth's surface between two points given in degrees."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, a))))


def bounding_boxes(lat: float, lon: float, radius_km: float) -> list[Box]:
    """Boxes that together contain every point within `radius_km` of (`lat`, `lon`).

    One box normally; two when the circle crosses the antimeridian (every longitude
    stays within [-180, 180]); a full band of longitudes when it covers a pole.
    Raises ValueError for a latitude outside [-90, 90], a negative radius, or NaN.
    """
    if not (-90.0 <= lat <= 90.0) or not math.isfinite(lon) or not radius_km >= 0.0:
        raise ValueError(f"invalid circle: lat={lat!r}, lon={lon!r}, radius_km={radius_km!r}")
    angle = radius_km / EARTH_RADIUS_KM
    angle += angle * _RADIUS_PAD_RELATIVE + _RADIUS_PAD_RADIANS
    if angle >= math.pi:
        return [(-90.0, 90.0, -180.0, 180.0)]

    phi = math.radians(lat)
    min_lat = max(-90.0, math.degrees(phi - angle) - _MARGIN_DEGREES)
    max_lat = min(90.0, math.degrees(phi + angle) + _MARGIN_DEGREES)
    if min_lat <= -90.0 or max_lat >= 90.0:
        return [(min_lat, max_lat, -180.0, 180.0)]
    ratio = math.sin(angle) / math.cos(phi)
    if ratio >= 1.0:
        return [(min_lat, max_lat, -180.0, 180.0)]

    half_width = math.degrees(math.asin(ratio)) + _MARGIN_DEGREES
    center = (lon + 180.0) % 360.0 - 180.0
    min_lon = center - half_width
    max_lon = center + half_width
    if min_lon < -180.0:
        return [(min_lat, max_lat, min_lon + 360.0, 180.0), (min_lat, max_lat, -180.0, max_lon)]
    if max_lon > 180.0:
        return [(min_lat, max_lat, min_lon, 180.0), (min_lat, max_lat, -180.0, max_lon - 360.0)]
    return [(min_lat, max_lat, min_lon, max_lon)]
