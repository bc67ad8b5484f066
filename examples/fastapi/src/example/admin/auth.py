"""Who may use the admin: the login form, the session, and the superuser-only rule.

- /admin/login checks an e-mail and password and keeps the user's id in the session;
  every request loads the user again, so deactivating or deleting a user logs them out.
- Anonymous visitors are sent to the login page; a logged-in user who is not a superuser
  gets 403 on every admin page but login and logout.
- /admin/logout (GET, or POST from the admin's menu) clears the session.
"""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.templating import Jinja2Templates
from starlette_admin.auth import AdminUser, AuthMiddleware, AuthProvider, LoginFailed

from example.models import User
from example.security import verify_password

# The session key holding the logged-in user's id.
SESSION_USER_ID = "admin_user_id"
LOGIN_FAILED = "Incorrect email or password"
FORBIDDEN_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>403 Forbidden</title></head>
<body>
<h1>403 Forbidden</h1>
<p>The admin is for superusers only. <a href="{logout}">Log out</a></p>
</body>
</html>
"""


@dataclass
class AdminAccount(AdminUser):
    """The logged-in user, as the admin shows it (username = e-mail address)."""

    is_superuser: bool = False


class AdminAuthProvider(AuthProvider):
    def __init__(self) -> None:
        # Logging out needs no login (a non-superuser must be able to leave, too).
        super().__init__(login_path="/login", logout_path="/logout", allow_routes=["logout"])

    async def login(
        self, username: str, password: str, remember_me: bool, request: Request
    ) -> Response | None:
        # The contract's form posts `email` (Starlette-Admin's own posts `username`).
        email = (await request.form()).get("email")
        email = email.strip().lower() if isinstance(email, str) else ""
        session: AsyncSession = request.state.session
        user = await session.scalar(select(User).where(User.email == email)) if email else None
        # Argon2 is deliberately slow: verify off the event loop. Same answer, and about
        # the same time, whether or not the account exists.
        password_ok = await run_in_threadpool(
            verify_password, password, user.hashed_password if user else None
        )
        if user is None or not password_ok or not user.is_active:
            raise LoginFailed(LOGIN_FAILED)
        # A fresh session (and so a fresh CSRF token): nothing from before the login carries over.
        request.session.clear()
        request.session[SESSION_USER_ID] = user.id
        return None

    async def authenticate(self, request: Request) -> AdminUser | None:
        user_id = request.session.get(SESSION_USER_ID)
        if not isinstance(user_id, int):
            return None
        session: AsyncSession = request.state.session
        user = await session.get(User, user_id)
        if user is None or not user.is_active:
            request.session.clear()
            return None
        return AdminAccount(username=user.email, is_superuser=user.is_superuser)

    async def logout(self, request: Request) -> Response:
        request.session.clear()
        return RedirectResponse(_url(request, "login"), status_code=303)

    def get_routes(self, templates: Jinja2Templates) -> list[Route]:
        # Starlette-Admin logs out with POST only; the contract says GET /admin/logout.
        routes = [route for route in super().get_routes(templates) if route.name != "logout"]
        logout = Route(self.logout_path, self.render_logout, methods=["GET", "POST"], name="logout")
        return [*routes, logout]

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
                page = FORBIDDEN_PAGE.format(logout=_url(request, "logout"))
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
