"""An alert's search: the site's own search parameters, frozen at sign-up.

The place is resolved once, at sign-up, and kept as a point with the words the patient
typed, so a digest never geocodes and always measures from where the patient meant.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

from app.geo.places import Place
from app.studies.rules import DEFAULT_STATUSES, NOT_YET_RECRUITING, RECRUITING
from app.studies.search import DEFAULT_RADIUS_KM, SearchParams
from app.studies.text import words


@dataclass(frozen=True)
class AlertSearch:
    condition: str
    age: int | None = None
    sex: str | None = None  # "female", "male" or None (any)
    place: str | None = None  # as shown to the patient: what they typed, or "your location"
    lat: float | None = None
    lon: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    statuses: tuple[str, ...] = DEFAULT_STATUSES

    @classmethod
    def of(cls, params: SearchParams, origin: Place | None) -> AlertSearch:
        """From validated search parameters. An alert covers recruiting studies, and also
        those not yet recruiting when the search included them: no other status."""
        wanted = [s for s in (RECRUITING, NOT_YET_RECRUITING) if s in params.status]
        return cls(
            condition=" ".join((params.condition or "").split()),
            age=params.age,
            sex=params.sex if params.sex in ("female", "male") else None,
            place=(params.location or origin.label) if origin else None,
            lat=origin.lat if origin else None,
            lon=origin.lon if origin else None,
            radius_km=params.radius_km,
            statuses=tuple(wanted) or DEFAULT_STATUSES,
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "statuses": list(self.statuses)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertSearch:
        return cls(**{**data, "statuses": tuple(data.get("statuses") or DEFAULT_STATUSES)})

    def canonical(self) -> str:
        """The same search however it was typed: one alert per address and search."""
        data = {**self.as_dict(), "condition": " ".join(words(self.condition))}
        data["place"] = None  # the point is what counts, not how it was named
        return json.dumps(data, sort_keys=True)

    @property
    def origin(self) -> Place | None:
        if self.lat is None or self.lon is None:
            return None
        return Place(label=self.place or "your location", lat=self.lat, lon=self.lon)

    def place_items(self) -> list[tuple[str, str]]:
        """The place as the site's pages carry it: the words typed, else the point."""
        if self.lat is None or self.lon is None:
            return []
        if self.place and self.place != "your location":
            return [("location", self.place)]
        return [("lat", f"{self.lat:.5f}"), ("lon", f"{self.lon:.5f}")]

    def query(self) -> str:
        """The query string of the results page and of a prefilled sign-up form."""
        items: list[tuple[str, str]] = [("condition", self.condition)]
        if self.age is not None:
            items.append(("age", str(self.age)))
        if self.sex:
            items.append(("sex", self.sex))
        if self.lat is not None and self.lon is not None:
            items += [*self.place_items(), ("radius_km", f"{self.radius_km:g}")]
        items += [("status", status) for status in self.statuses]
        return urlencode(items)

    def summary(self) -> str:
        """ "Breast cancer · age 54 · female · within 100 km of Boston · opening soon included"."""
        parts = [self.condition[:1].upper() + self.condition[1:]]
        if self.age is not None:
            parts.append(f"age {self.age}")
        if self.sex:
            parts.append(self.sex)
        if self.lat is not None:
            parts.append(f"within {self.radius_km:g} km of {self.place or 'your location'}")
        if NOT_YET_RECRUITING in self.statuses:
            parts.append("opening soon included")
        return " · ".join(parts)
