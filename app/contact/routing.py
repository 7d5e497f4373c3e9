"""Which address receives a contact request (DESIGN.md, "Get in touch", rule 4).

The chosen site's own contact email first; else the study's central contact; else the
operator's fallback address; else nobody, and the request is kept and flagged for an
administrator. Never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from email_validator import EmailNotValidError

from app.contact.forms import mail_address
from app.studies.models import Site, Study

RoutingKind = Literal["site", "central", "fallback", "flagged"]


@dataclass(frozen=True)
class Routing:
    kind: RoutingKind
    address: str | None
    contact_name: str | None = None


def _usable(address: Any) -> str | None:
    """A published address that can actually receive mail, normalised; else None."""
    if not isinstance(address, str) or not address.strip():
        return None
    try:
        return mail_address(address)
    except EmailNotValidError:
        return None


def _first_with_email(contacts: list[dict[str, Any]]) -> tuple[str, str | None] | None:
    for contact in contacts:
        address = _usable(contact.get("email"))
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
    address = _usable(fallback)
    if address:
        return Routing("fallback", address)
    return Routing("flagged", None)


def reaches_study_team(study: Study) -> bool:
    """A recruiting study that lists no sites at all, but a central contact email.

    Such a study still takes contacts: the patient writes to the study team, which
    tells them where they can take part.
    """
    return (
        study.takes_contacts
        and not study.sites
        and _first_with_email(study.central_contacts) is not None
    )
