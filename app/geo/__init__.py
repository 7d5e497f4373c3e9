"""Places and distances: what a patient types becomes coordinates, and how far trials are."""

from app.geo.distance import EARTH_RADIUS_KM, Box, bounding_boxes, haversine_km
from app.geo.places import (
    GEONAMES_CREDIT,
    AmbiguousPlace,
    Place,
    PlaceError,
    PlaceNotFound,
    is_warm,
    resolve_place,
    warm_up,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "GEONAMES_CREDIT",
    "AmbiguousPlace",
    "Box",
    "Place",
    "PlaceError",
    "PlaceNotFound",
    "bounding_boxes",
    "haversine_km",
    "is_warm",
    "resolve_place",
    "warm_up",
]
