"""The application factory (Flask tutorial style: `create_app`, one blueprint per concern)."""

from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_cors import CORS

from example import db, middleware
from example.api import register_blueprints
from example.api.auth import init_rate_limit
from example.api.ws import init_websocket
from example.docs import init_api
from example.errors import register_error_handlers
from example.logging_config import configure_logging
from example.settings import Settings, server_settings

MAX_BODY_BYTES = 1024 * 1024


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, read only from a request that carries one: Flask's own
    builds its signer on every request, API calls included (a tenth of a GET's cost)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


class JSONProvider(DefaultJSONProvider):
    # JSON in the schemas' field order, as the FastAPI flavor writes it, rather than sorted
    # (sorting every object's keys was 2 % of a list request).
    sort_keys = False


class App(Flask):
    """Flask, with the per-request costs that buy this app nothing taken out."""

    json_provider_class = JSONProvider
    session_interface = SessionCookies()

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks, for every hook and view of every request, whether it is a coroutine
        # function; the answer never changes.
        try:
            return self._sync[func]
        except KeyError:
            sync = self._sync[func] = super().ensure_sync(func)
            return sync


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from `settings` (default: the environment and `.env`, as a plain
    `gunicorn` start does: refused settings end it in one line, see server_settings)."""
    settings = settings or server_settings()
    settings.require_secret_key()
    configure_logging(settings.log_level)

    app = App(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        # The typed settings, for code running in a request (see deps.get_settings).
        SETTINGS=settings,
    )

    db.init_app(app, settings)
    middleware.init_app(app, production=settings.environment == "production")
    if settings.metrics_enabled:
        from example.api.metrics import init_metrics

        init_metrics(app)
    if settings.cors_origins:
        CORS(app, origins=settings.cors_origins, expose_headers=["Location", "X-Request-ID"])

    init_rate_limit(app, settings)
    api = init_api(app)
    register_blueprints(api)
    init_websocket(app, settings)
    # Imported here, as the app is built: importing this module does not load Flask-Admin.
    from example.admin import init_admin

    init_admin(app, settings)
    register_error_handlers(app)
    return app
