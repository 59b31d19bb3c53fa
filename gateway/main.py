"""The gateway: authenticates, turns HTTP into RPC, serves the web app. No business rules here.

Run with ``uvicorn --factory gateway.main:create_app``; the RPC client
connects when the app starts, not at import.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Scope
from swagger_ui_bundle import swagger_ui_path

from gateway import errors, streaming
from gateway.api.routes import (
    api_clients,
    auth,
    cases,
    directory,
    files,
    health,
    invitations,
    me,
    notifications,
    oauth,
    office,
    patient_talk,
    planning,
    procedures,
    providers,
    referrals,
    sessions,
    status,
    teeth,
    users,
)
from gateway.auth.sync import Auth
from gateway.observability import RequestContextMiddleware
from gateway.rpc import Services
from gateway.settings import GatewaySettings, get_settings
from shared.logging import configure_logging
from shared.rpc_client import RpcClient

WEB_DIR = Path(__file__).parent / "web"
#: Paths that are never web-app pages: a miss there stays a 404.
_NOT_PAGES = ("api/", "health/", "docs", "metrics", "openapi.json")


class WebApp(StaticFiles):
    """The web app's files. A page path with no file (a deep link such as /referrals/<id>)
    gets index.html, whose router shows it. Browsers revalidate every file (no stale modules)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            response = await super().get_response(path, scope)
        except StarletteHTTPException as exc:
            last = path.rsplit("/", 1)[-1]
            if exc.status_code != 404 or "." in last or path.startswith(_NOT_PAGES):
                raise
            response = await super().get_response("index.html", scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def _serve_api_docs(app: FastAPI) -> None:
    """The interactive API reference at /docs, its assets from the swagger-ui-bundle package."""
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Bridgework API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The FastAPI application, wired to its settings."""
    settings = settings or get_settings()
    configure_logging("gateway", settings.log_level)
    client = RpcClient(settings.amqp_uri, name="gateway", default_timeout=settings.rpc_timeout)
    identity = Auth(
        key_refresh_interval=settings.key_refresh_interval,
        revocation_poll_interval=settings.revocation_poll_interval,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await client.start_async()
        # File bytes travel over HTTP to and from the files service, on one pooled client.
        app.state.upstream = streaming.upstream_client(
            timeout=settings.transfer_timeout, connect_timeout=settings.transfer_connect_timeout
        )
        # In the background: the app serves (health, status, sign-up) while identity starts.
        await identity.start(app.state.services)
        try:
            yield
        finally:
            await identity.stop()
            await app.state.upstream.aclose()
            await client.stop_async()

    app = FastAPI(
        docs_url=None,  # served below from local assets: FastAPI's default loads a CDN
        redoc_url=None,
        title="Bridgework API",
        version=version("bridgework"),
        description=(
            "Referrals and lab cases between dental offices. Errors are JSON: "
            '`{"detail": "...", "request_id": "...", "errors": [{"field": ..., "message": ...}]}`; '
            "quote the request id (also in the X-Request-ID header) when reporting a problem."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = Services(client, names=settings.services, timeout=settings.rpc_timeout)
    app.state.auth = identity
    errors.install(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(status.router)
    app.include_router(teeth.router)
    for module in (auth, sessions, oauth, me, office, providers, users, api_clients):
        app.include_router(module.router)
    app.include_router(invitations.router)
    app.include_router(directory.router)
    app.include_router(referrals.router)
    app.include_router(files.router)
    app.include_router(cases.router)
    app.include_router(planning.router)
    app.include_router(procedures.router)
    app.include_router(patient_talk.router)
    app.include_router(notifications.router)
    _serve_api_docs(app)
    app.mount("/", WebApp(directory=WEB_DIR, html=True), name="web")
    return app
