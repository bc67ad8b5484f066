"""The application factory: `create_app(settings)` builds a fully wired FastAPI app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from example.api import API_PREFIX, api_routers, health, ws
from example.db import create_engine, create_sessionmaker
from example.docs import add_docs
from example.errors import register_error_handlers
from example.events import EventHub
from example.headers import SecurityHeaders
from example.logging_config import configure_logging
from example.middleware import (
    REQUEST_ID_HEADER,
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
)
from example.ratelimit import LoginRateLimiter
from example.settings import Settings, server_settings
from example.sqlite import read_execution_options

if TYPE_CHECKING:
    from example.metrics import RequestMetrics

MAX_BODY_BYTES = 1024 * 1024


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Hand the sessionmaker to the requests; close the engine's connections at shutdown.

    The lifespan state is copied into every request's `request.state` (see deps.get_session).
    The event hub listens on Redis (REDIS_URL) while the app runs (see api/ws.py).
    """
    app.state.events.start()
    try:
        yield {
            "sessionmaker": app.state.sessionmaker,
            "read_execution_options": read_execution_options(app.state.engine.dialect),
        }
    finally:
        app.state.events.stop()
        await app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    # Without settings, as a plain `uvicorn --factory` start builds the app: refused settings
    # end the process in one line (see server_settings).
    settings = settings or server_settings()
    settings.require_secret_key()
    configure_logging(settings.log_level)
    security_headers = SecurityHeaders(production=settings.environment == "production")

    metrics = None
    if settings.metrics_enabled:
        from example.metrics import RequestMetrics

        metrics = RequestMetrics()
    app = FastAPI(
        title="Example",
        description="Example: a FastAPI web service",
        version="0.1.0",
        lifespan=lifespan,
        middleware=_middleware(settings, security_headers, metrics),
        # /docs is ours (docs.py): FastAPI's own pages load their assets from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    # For the 500 handler, which answers outside the middleware (errors.py).
    app.state.security_headers = security_headers
    # The engine connects on first use; the lifespan closes its connections at shutdown.
    app.state.engine = create_engine(settings)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    app.state.login_limiter = LoginRateLimiter(settings.auth_rate_limit, settings.redis_url)
    app.state.events = EventHub.from_url(settings.redis_url)
    register_error_handlers(app)

    # Every router is registered here, and only here, and requests are matched against the
    # routes in this order.
    # The admin's mount first: its pages build a dozen URLs each (url_for), and a lookup walks
    # the routes in order. No API path starts with /admin, so the API's requests pass it by.
    # Imported here, as the app is built: importing this module does not load Starlette-Admin.
    from example.admin import init_admin

    app.state.admin = init_admin(app, settings, app.state.sessionmaker, app.state.login_limiter)
    for router in api_routers:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health.router)
    if metrics is not None:
        from example.api.metrics import router as metrics_router

        app.state.metrics = metrics
        app.include_router(metrics_router)
    app.include_router(ws.router, prefix=API_PREFIX)
    add_docs(app)
    return app


def _middleware(
    settings: Settings, security_headers: SecurityHeaders, metrics: "RequestMetrics | None"
) -> list[Middleware]:
    """Outermost first: every response, even a 413 or a CORS preflight, gets a request id
    and the security headers (and is counted, when metrics are on)."""
    middleware = [Middleware(RequestContextMiddleware, security_headers=security_headers)]
    if metrics is not None:
        from example.api.metrics import MetricsMiddleware

        middleware.append(Middleware(MetricsMiddleware, metrics=metrics))
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=["Location", REQUEST_ID_HEADER],
            )
        )
    middleware.append(Middleware(BodySizeLimitMiddleware, max_bytes=MAX_BODY_BYTES))
    return middleware
