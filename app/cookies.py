"""Setting cookies: the one place that decides their security flags.

Every cookie is HttpOnly (no script reads them) and Secure whenever the site is served
over https, which production requires (`Settings.secure_cookies`).
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request, Response


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int,
    path: str = "/",
    samesite: Literal["lax", "strict"] = "lax",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        samesite=samesite,
        httponly=True,
        secure=request.app.state.settings.secure_cookies,
    )


def delete_cookie(request: Request, response: Response, name: str, *, path: str = "/") -> None:
    response.delete_cookie(
        name, path=path, httponly=True, secure=request.app.state.settings.secure_cookies
    )
