"""Which address receives a contact request.

The chosen site's own contact email first; else the study's central contact; else the
operator's fallback address; else nobody, and the request is kept and flagged for an
administrator. Never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from app.addresses import usable
from app.studies.models import Site, Study

RoutingKind = Literal["site", "central", "fallback", "flagged"]


@dataclass(frozen=True)
class Routing:
    kind: RoutingKind
    address: str | None
    contact_name: str | None = None


def _first_with_email(contacts: list[dict[str, Any]]) -> tuple[str, str | None] | None:
    for contact in contacts:
        address = usable(contact.get("email"))
        if address:
            return address, contact.get("name")
    return None


def route_request(study: Study, site: Site | None, *, fallback: str | None) -> Routing:
    found = _first_with_email(site.contacts) if site else None
    if found:
        return Routing("site", *found)
    found = _first_with_email(study.central_contacts)
    if found:
        return Routing("central", *found)
    address = usable(fallback)
    if address:
        return Routing("fallback", address)
    return Routing("flagged", None)
