"""The admin UI at /admin (Starlette-Admin), for active superusers only.

- The session lives on the server (admin_sessions.py: logging out ends it, and it expires 12
  hours after the login); its token is in a cookie signed with SECRET_KEY (Starlette's
  SessionMiddleware), HttpOnly, SameSite=Lax, Secure in production, and scoped to /admin.
- auth.py: the login form (e-mail, password), the session, and 403 for anyone but a superuser.
- csrf.py: a CSRF token per session, checked on every form and AJAX request that changes
  something (it replaces Starlette-Admin's own double-submit cookie, whose field name
  differs from this project's `csrf_token`).
- views.py: users, and the base of the resources' views (the example Item's among them);
  passwords are hashed with security.hash_password.
- templates/: the login page (its fields are `email` and `password`) and the page shell,
  without the web font Starlette-Admin loads from the internet. Its scripts, styles and
  icons are served from the package itself, under /admin/static/: the admin works offline.
  Every `<script>` tag of its templates carries the page's CSP nonce (headers.py).
"""

import logging
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette_admin.contrib.sqla import Admin

from example import admin_sessions, resources
from example.admin.auth import AdminAuthProvider
from example.admin.csrf import CSRFMiddleware, csrf_input
from example.admin.views import UserView
from example.database_errors import NulCharacterError
from example.errors import MountedAppErrors, handle_nul_character
from example.models import User
from example.ratelimit import LoginRateLimiter
from example.script_nonce import ScriptNonceExtension
from example.settings import Settings

BASE_URL = "/admin"
TEMPLATES_DIR = Path(__file__).parent / "templates"
SESSION_COOKIE = "admin_session"
# The cookie's own lifetime; the session on the server ends 12 hours after the login, however
# active (admin_sessions.LIFETIME), whatever the cookie says.
SESSION_MAX_AGE = int(admin_sessions.LIFETIME.total_seconds())
# Starlette-Admin's database-session middleware logs every exception that leaves the admin,
# traceback and all, before MountedAppErrors answers it: a 503 would log a traceback per
# request while the database is away, and a bug twice. MountedAppErrors logs them as the
# app's own errors are (errors.py), so the middleware's copy is left out.
DB_SESSION_LOGGER = "starlette_admin.contrib.sqla.middleware"
# Starlette-Admin narrates its own set-up at INFO, a dozen lines each time a worker starts.
ADMIN_LOGGER = "starlette_admin"


class ProjectAdmin(Admin):
    def _init_csrf(self) -> None:
        """Leave out Starlette-Admin's CSRF middleware: csrf.CSRFMiddleware replaces it."""


def init_admin(
    app: FastAPI,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    limiter: LoginRateLimiter,
) -> Admin:
    """Mount the admin on `app`, with its own session, on the app's database sessions; its
    login counts against the app's login `limiter`."""
    secure = settings.environment == "production"
    # Its set-up narration shows at LOG_LEVEL=DEBUG only; its warnings and errors as ever.
    logging.getLogger(ADMIN_LOGGER).setLevel(
        logging.NOTSET if settings.log_level == "DEBUG" else logging.WARNING
    )
    admin = ProjectAdmin(
        sessionmaker,
        title="Example admin",
        base_url=BASE_URL,
        templates_dir=str(TEMPLATES_DIR),
        auth_provider=AdminAuthProvider(limiter, settings),
        # Signs Starlette-Admin's flash-message cookie.
        secret_key=settings.secret_key,
        middlewares=[
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                path=BASE_URL,
                same_site="lax",
                https_only=secure,
            ),
            Middleware(CSRFMiddleware, path=BASE_URL, secure=secure),
        ],
    )
    # Every Starlette-Admin form template renders this; ours has the session's token.
    admin.templates.env.globals["csrf_input"] = csrf_input
    # Its inline scripts carry the page's nonce, which its Content-Security-Policy names.
    admin.templates.env.add_extension(ScriptNonceExtension)
    # The templates are read once (as Flask does outside debug), not checked on every render.
    admin.templates.env.auto_reload = settings.environment == "development"
    admin.add_view(UserView(User, icon="fa fa-users"))
    # The resources' views (the example Item's and `scaffold add resource`'s), by name: see
    # resources/__init__.py.
    for module in resources.modules("admin"):
        module.register(admin)
    # Outermost: a database or a login limit's Redis that does not answer is a 503 wherever the
    # admin meets it (its login check, its pages and forms, its session's commit), a bug a 500.
    admin.middlewares.insert(0, Middleware(MountedAppErrors))
    logging.getLogger(DB_SESSION_LOGGER).setLevel(logging.CRITICAL)
    admin.mount_to(app)
    # Text with a NUL character in a search (database_errors.py) is a 422.
    admin.app.add_exception_handler(NulCharacterError, handle_nul_character)
    return admin
