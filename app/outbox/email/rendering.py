"""Email composition from templates: `templates/email/<name>/{subject.txt, body.txt, body.html}`.

Each email has a typed context: a frozen dataclass subclassing `EmailContext`, which names
its template and can make a `sample()` of itself with fictional values. The templates see
the dataclass's fields and nothing else, and the tests render every sample. Text
templates are rendered without HTML escaping, the HTML body with it. Subjects must come
out as one line; rendering refuses anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any, ClassVar, Self

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)

from app.phones import display_phone
from app.resources import TEMPLATE_DIR


class EmailContext:
    """Base of the typed email contexts (see the module docstring)."""

    template: ClassVar[str]
    by_template: ClassVar[dict[str, type[EmailContext]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "template" in cls.__dict__:
            EmailContext.by_template[cls.template] = cls

    @classmethod
    def sample(cls) -> Self:
        """A context with fictional values, for the tests and for previews."""
        raise NotImplementedError

    def values(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str | None


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR / "email"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["phone"] = display_phone  # the same display as on pages
    return env


def render_email(context: EmailContext) -> RenderedEmail:
    env = _environment()
    name, values = context.template, context.values()
    subject = " ".join(env.get_template(f"{name}/subject.txt").render(values).split())
    if not subject:
        raise ValueError(f"email {name!r} rendered an empty subject")
    text = env.get_template(f"{name}/body.txt").render(values)
    try:
        html: str | None = env.get_template(f"{name}/body.html").render(values)
    except TemplateNotFound:
        html = None
    return RenderedEmail(subject=subject, text=text, html=html)
