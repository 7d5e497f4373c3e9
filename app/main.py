"""The web application: routers, static files, security headers and error pages."""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import RequestResponseEndpoint
from starlette.requests import ClientDisconnect

from app.admin import imports as admin_imports
from app.admin import studies as admin_studies
from app.admin import views as admin_views
from app.admin.auth import NotLoggedIn, has_signed_session
from app.config import Settings, get_settings
from app.contact import views as contact_views
from app.db import session_factory
from app.geo import places
from app.resources import STATIC_DIR
from app.studies import api as studies_api
from app.studies import views as studies_views
from app.templating import make_templates

log = logging.getLogger("trialfinder")
MAX_ADMIN_BODY = 210 * 1024 * 1024  # the import upload cap plus room for the form

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}
# The OpenAPI pages load their viewer from a CDN, so they are served without this policy.
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="TrialFinder",
        summary="Find clinical trials that are recruiting now, near you.",
        version="0.1.0",
    )
    app.state.settings = settings
    app.state.sessionmaker = session_factory(settings)
    app.state.templates = make_templates()
    hsts = settings.env == "production"

    @app.middleware("http")
    async def admin_gate(request: Request, call_next: RequestResponseEndpoint) -> Response:
        # Refuse admin writes without a validly signed session, and over-large bodies,
        # before the body is read: an anonymous 300 MB upload must not be stored first.
        # (The route's own `require_admin` still checks the account and its nonce.)
        if request.method == "POST" and request.url.path.startswith("/admin/"):
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > MAX_ADMIN_BODY:
                return PlainTextResponse("request too large", status_code=413)
            if request.url.path != "/admin/login" and not has_signed_session(request):
                return PlainTextResponse("please log in", status_code=403)
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            if name == "Content-Security-Policy" and request.url.path.startswith(DOCS_PATHS):
                continue
            response.headers.setdefault(name, value)
        if hsts:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.url.path.startswith("/admin"):
            # Patients' personal data: never cached, never indexed.
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(studies_views.router)
    app.include_router(studies_api.router)
    app.include_router(contact_views.router)
    app.include_router(admin_views.router)
    app.include_router(admin_studies.router)
    app.include_router(admin_imports.router)

    # The place index takes a moment to build; build it before the first search needs it.
    threading.Thread(target=places.warm_up, name="geo-warm-up", daemon=True).start()

    @app.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> PlainTextResponse:
        try:
            with app.state.sessionmaker() as session:
                session.execute(text("SELECT 1 FROM studies LIMIT 1"))
        except Exception:
            log.exception("readiness check failed")
            return PlainTextResponse("database unavailable", status_code=503)
        return PlainTextResponse("ok")

    templates = app.state.templates

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        if request.url.path.startswith("/admin/") and exc.status_code != 404:
            # Administrators get the reason (an expired form, an invalid address) in their
            # own layout, not the patients' "start again from the search page".
            titles = {403: "Not allowed", 413: "Too large", 422: "Please check what you sent"}
            admin_page: Response = templates.TemplateResponse(
                request,
                "admin/error.html",
                {
                    "title": titles.get(exc.status_code, "Something went wrong"),
                    "detail": exc.detail,
                },
                status_code=exc.status_code,
            )
            return admin_page
        name = "errors/404.html" if exc.status_code == 404 else "errors/error.html"
        response: Response = templates.TemplateResponse(
            request, name, {"status_code": exc.status_code}, status_code=exc.status_code
        )
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        response: Response = templates.TemplateResponse(
            request, "errors/error.html", {"status_code": 422}, status_code=422
        )
        return response

    @app.exception_handler(NotLoggedIn)
    async def to_login(request: Request, exc: NotLoggedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/admin/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect) -> Response:
        # The browser went away mid-upload: nothing to answer, nothing went wrong here.
        return PlainTextResponse("request incomplete", status_code=400)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        if _wants_json(request):
            return JSONResponse({"detail": "internal error"}, status_code=500)
        response: Response = templates.TemplateResponse(
            request, "errors/error.html", {"status_code": 500}, status_code=500
        )
        return response

    return app
