"""How personal data shows in admin lists: enough to tell requests apart, not to contact anyone.

The whole value is shown only on a request's own page, and opening that page is written
in the audit log (app/admin/views.py).
"""

from __future__ import annotations

HIDDEN = "•••"


def mask_email(value: str | None) -> str:
    """ "ana.example@example.org" -> "a•••@e•••.org"."""
    if not value or "@" not in value:
        return HIDDEN if value else ""
    local, _, domain = value.rpartition("@")
    name, dot, top = domain.rpartition(".")
    shown_domain = f"{name[:1]}{HIDDEN}{dot}{top}" if dot else f"{domain[:1]}{HIDDEN}"
    return f"{local[:1]}{HIDDEN}@{shown_domain}"


def mask_phone(value: str | None) -> str:
    """ "+12025550143" -> "+1•••43": the country code and the last two digits."""
    if not value:
        return ""
    digits = value.lstrip("+")
    prefix = "+" if value.startswith("+") else ""
    return f"{prefix}{digits[:1]}{HIDDEN}{digits[-2:]}" if len(digits) > 4 else HIDDEN


def mask_name(first: str | None, last: str | None) -> str:
    """ "Ana Example" -> "Ana E.": enough to tell two requests apart."""
    return " ".join(part for part in (first or "", f"{last[:1]}." if last else "") if part)
