"""Who may use the admin: the login form, the session, and the superuser-only rule.

- /admin/login checks an e-mail and password against the app's one login limit (ratelimit.py:
  per client address and per account; over it, the form again with an error, 429) and starts
  a session on the server (admin_sessions.py); the signed cookie holds only its token.
- Every request loads the session's user again: deactivating or deleting a user, logging
  out, or the session's 12 hours running out logs them out.
- Anonymous visitors are sent to the login page; a logged-in user who is not a superuser
  gets 403 on every admin page but login and logout.
- /admin/logout is a POST with the CSRF token (the admin's menu has the form): it deletes the
  session on the server and clears the cookie. A GET logs no one out.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match
from starlette.templating import Jinja2Templates
from starlette_admin.auth import AdminUser, AuthMiddleware, AuthProvider, LoginFailed

from example import admin_sessions
from example.admin.csrf import csrf_input
from example.deps import client_address
from example.models import NUL, User
from example.ratelimit import LoginRateLimiter
from example.security import verify_password
from example.settings import Settings

# The cookie's key holding the token of the session on the server.
ADMIN_SESSION_KEY = "admin_session"
LOGIN_FAILED = "Incorrect email or password"
TOO_MANY_ATTEMPTS = "Too many login attempts; try again later"


@dataclass
class AdminAccount(AdminUser):
    """The logged-in user, as the admin shows it (username = e-mail address)."""

    is_superuser: bool = False


class AdminAuthProvider(AuthProvider):
    def __init__(self, limiter: LoginRateLimiter, settings: Settings) -> None:
        # Logging out needs no login (a non-superuser must be able to leave, too).
        super().__init__(login_path="/login", logout_path="/logout", allow_routes=["logout"])
        self.limiter = limiter
        self.settings = settings

    async def login(
        self, username: str, password: str, remember_me: bool, request: Request
    ) -> Response | None:
        # The contract's form posts `email` (Starlette-Admin's own posts `username`).
        email = (await request.form()).get("email")
        email = email.strip().lower() if isinstance(email, str) else ""
        client = client_address(request, self.settings)
        # Off the event loop: with REDIS_URL set, the limiter makes network round trips.
        retry_after = await run_in_threadpool(self.limiter.admit, client, "admin")
        if retry_after is None:
            retry_after = await run_in_threadpool(
                self.limiter.admit_account, email, client, "admin"
            )
        if retry_after is not None:
            request.state.login_retry_after = retry_after  # see render_login
            raise LoginFailed(TOO_MANY_ATTEMPTS)
        session: AsyncSession = request.state.session
        # No address holds a NUL character (nor may a query: database_errors.py).
        known = email and NUL not in email
        user = await session.scalar(select(User).where(User.email == email)) if known else None
        # Argon2 is deliberately slow: verify off the event loop. Same answer, and about
        # the same time, whether or not the account exists.
        password_ok = await run_in_threadpool(
            verify_password, password, user.hashed_password if user else None
        )
        if user is None or not password_ok or not user.is_active:
            await run_in_threadpool(self.limiter.failed, email, client, "admin")
            raise LoginFailed(LOGIN_FAILED)
        token, row, expired = admin_sessions.start(user.id)
        await session.execute(expired)
        session.add(row)
        await session.commit()
        # A fresh cookie (and so a fresh CSRF token): nothing from before the login carries over.
        request.session.clear()
        request.session[ADMIN_SESSION_KEY] = token
        self.limiter.succeeded(email, client, "admin", user.id)
        return None

    async def render_login(self, request: Request, templates: Jinja2Templates) -> Response:
        response = await super().render_login(request, templates)
        retry_after = getattr(request.state, "login_retry_after", None)
        if retry_after is not None:  # the form again, with the error, but as a 429
            response.status_code = 429
            response.headers["Retry-After"] = str(retry_after)
        return response

    async def authenticate(self, request: Request) -> AdminUser | None:
        token = request.session.get(ADMIN_SESSION_KEY)
        if not isinstance(token, str):
            return None
        session: AsyncSession = request.state.session
        user = await session.scalar(admin_sessions.user_of(token))
        if user is None:  # logged out, expired, or the user is deactivated or gone
            request.session.clear()
            return None
        return AdminAccount(username=user.email, is_superuser=user.is_superuser)

    async def logout(self, request: Request) -> Response:
        token = request.session.get(ADMIN_SESSION_KEY)
        if isinstance(token, str):
            session: AsyncSession = request.state.session
            await session.execute(admin_sessions.end(token))
            await session.commit()
        request.session.clear()
        return RedirectResponse(_url(request, "login"), status_code=303)

    def get_middleware(self) -> Middleware:
        return Middleware(SuperuserOnlyMiddleware, provider=self)


class SuperuserOnlyMiddleware(AuthMiddleware):
    """Starlette-Admin's login check, then 403 for users who are not superusers."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        async def superusers_only(request: Request) -> Response:
            account = getattr(request.state, "admin_user", None)
            if (
                isinstance(account, AdminAccount)
                and not account.is_superuser
                and _route_name(request) not in self.allow_routes
            ):
                page = admin_sessions.FORBIDDEN_PAGE.format(
                    logout=_url(request, "logout"), csrf=csrf_input(request)
                )
                return HTMLResponse(page, status_code=403)
            return await call_next(request)

        return await super().dispatch(request, superusers_only)


def _route_name(request: Request) -> str | None:
    """The name of the admin route this request goes to (as AuthMiddleware finds it)."""
    for route in request.scope["app"].routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            name: str | None = getattr(route, "name", None)
            return name
    return None


def _url(request: Request, name: str) -> str:
    """The path of an admin route (Starlette-Admin names them "admin:<name>")."""
    return request.url_for(f"{request.app.state.ROUTE_NAME}:{name}").path
