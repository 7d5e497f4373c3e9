"""The web application: routers, static files, CSRF, security headers and error answers."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from app import crypto, csrf, errors, headers
from app.admin import imports as admin_imports
from app.admin import studies as admin_studies
from app.admin import views as admin_views
from app.admin.auth import AdminGate, NotLoggedIn
from app.alerts import views as alert_views
from app.config import Settings, get_settings
from app.contact import views as contact_views
from app.db import DATABASE_UNAVAILABLE, session_factory
from app.geo import places
from app.keycheck import check_keys
from app.logs import configure_logging
from app.notes import views as notes_views
from app.privacy import requests as privacy_requests
from app.privacy import views as privacy_views
from app.resources import STATIC_DIR
from app.studies import api as studies_api
from app.studies import lay_names
from app.studies import views as studies_views
from app.templating import make_templates

log = logging.getLogger("trialfinder")


def logged_app() -> FastAPI:
    """The app as `trialfinder serve --workers N` starts it in each web process: settings
    from the environment, and our logging set-up (the parent's does not reach the child)."""
    configure_logging()
    return create_app()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Refuses to start with missing or malformed keys; the lifespan checks they open the data.
    keys = crypto.install(settings.vault())
    # Passcode derivations may hold at most half the request threads (app/crypto.py).
    crypto.limit_derivations(settings.web_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Requests run in this many threads; the connection pool is sized from the same
        # setting (see Settings.pool_size), so a request never waits for a connection
        # that a request waiting for a thread holds.
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        try:
            check_keys(app.state.sessionmaker, keys)
        except DATABASE_UNAVAILABLE as error:
            # Checked again by /readyz, which fails until it passes.
            log.warning(
                "could not check the keys yet: database unavailable (%s)", type(error).__name__
            )
        else:
            app.state.keys_checked = True
        yield

    app = FastAPI(
        title="TrialFinder",
        summary="Find clinical trials that are recruiting now, near you.",
        version="0.1.0",
        lifespan=lifespan,
        # Every route that changes something is protected unless named in csrf.EXEMPT.
        dependencies=[Depends(csrf.protect)],
    )
    app.state.settings = settings
    app.state.keys_checked = False
    app.state.sessionmaker = session_factory(settings)
    app.state.templates = make_templates()

    # The last added runs first: security headers wrap everything, the admin gate too.
    app.add_middleware(AdminGate)
    app.add_middleware(headers.SecurityHeaders, production=settings.env == "production")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(studies_views.router)
    app.include_router(studies_api.router)
    app.include_router(contact_views.router)
    app.include_router(alert_views.router)
    app.include_router(notes_views.router)
    app.include_router(privacy_requests.router)
    app.include_router(privacy_views.router)
    app.include_router(admin_views.router)
    app.include_router(admin_studies.router)
    app.include_router(admin_imports.router)

    # The place index and the lay-name table take a moment to build; build them before the
    # first search needs them (/readyz answers "starting" until both are built).
    def warm_up() -> None:
        places.warm_up()
        lay_names.lay_names()

    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    def favicon() -> RedirectResponse:
        # Pages name their icon (static/favicon.svg); browsers, feed readers and bookmark
        # tools that ask the conventional address without reading a page are sent there.
        return RedirectResponse(app.url_path_for("static", path="favicon.svg"), status_code=301)

    @app.api_route("/healthz", methods=["GET", "HEAD"], include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> PlainTextResponse:
        """Ready for patients: the place index and lay-name table are built, the database answers.

        Building them takes a few seconds of CPU at start; a load balancer that waits for
        this sends no one to a process that would answer slowly meanwhile.
        Database errors reach the database-unavailable answer: 503 with Retry-After.
        """
        if not (places.is_warm() and lay_names.is_warm()):
            return PlainTextResponse("starting", status_code=503, headers={"Retry-After": "5"})
        if not app.state.keys_checked:
            check_keys(app.state.sessionmaker, keys)  # KeyProblem: a 500, logged
            app.state.keys_checked = True
        with app.state.sessionmaker() as session:
            session.execute(text("SELECT 1 FROM studies LIMIT 1"))
        return PlainTextResponse("ok")

    errors.install(app)

    @app.exception_handler(NotLoggedIn)
    async def to_login(request: Request, exc: NotLoggedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/admin/login?{urlencode({'next': target})}", status_code=303)

    return app
