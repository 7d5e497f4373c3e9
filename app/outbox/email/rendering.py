"""Email composition from templates: `templates/email/<name>/{subject.txt, body.txt, body.html}`.

Text templates are rendered without HTML escaping, the HTML body with it. Subjects must
come out as one line without health details; rendering refuses anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from app.resources import TEMPLATE_DIR


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR / "email"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_email(name: str, context: dict[str, Any]) -> RenderedEmail:
    env = _environment()
    subject = " ".join(env.get_template(f"{name}/subject.txt").render(context).split())
    if not subject:
        raise ValueError(f"email {name!r} rendered an empty subject")
    text = env.get_template(f"{name}/body.txt").render(context)
    try:
        html: str | None = env.get_template(f"{name}/body.html").render(context)
    except TemplateNotFound:
        html = None
    return RenderedEmail(subject=subject, text=text, html=html)
