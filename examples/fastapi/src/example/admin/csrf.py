"""CSRF protection for the admin: one random token per session, required on every unsafe request.

The token lives in the admin's signed session cookie. Pages carry it in a hidden
`csrf_token` input (`csrf_input`, which every Starlette-Admin form template calls: login,
create, edit, logout). Starlette-Admin's JavaScript (list-page actions such as delete,
inline edits) reads it from the `starlette_admin_csrftoken` cookie and sends it back in an
`X-CSRFToken` header, or as a `csrftoken` field in the few forms it builds itself.

A POST, PUT, PATCH or DELETE whose token (form field or header) does not match the
session's gets 403 before it reaches the admin.
"""

import hmac
import secrets

from markupsafe import Markup
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp

SESSION_KEY = "csrf_token"
FIELD_NAMES = ("csrf_token", "csrftoken")
HEADER_NAMES = ("X-CSRF-Token", "X-CSRFToken")
# The cookie Starlette-Admin's JavaScript reads the token from (so not HttpOnly).
SCRIPT_COOKIE = "starlette_admin_csrftoken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CSRF_FAILED = "CSRF token missing or invalid; reload the page and try again."


def get_csrf_token(request: Request) -> str:
    """This session's token, created on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def csrf_input(request: Request) -> Markup:
    """The hidden form field; replaces Starlette-Admin's template global of the same name."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        get_csrf_token(request)
    )


class CSRFMiddleware(BaseHTTPMiddleware):
    """Check the token on unsafe requests; keep the script cookie in step with the session.

    Runs inside SessionMiddleware (it needs `request.session`).
    """

    def __init__(self, app: ASGIApp, *, path: str, secure: bool) -> None:
        super().__init__(app)
        self.path = path
        self.secure = secure

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        expected = get_csrf_token(request)
        if request.method not in SAFE_METHODS:
            submitted = await _submitted_token(request)
            if submitted is None or not hmac.compare_digest(submitted.encode(), expected.encode()):
                return PlainTextResponse(CSRF_FAILED, status_code=403)
        response = await call_next(request)
        # Logging in or out starts a new session, and so a new token.
        current = request.session.get(SESSION_KEY)
        if current is None:
            response.delete_cookie(SCRIPT_COOKIE, path=self.path)
        elif request.cookies.get(SCRIPT_COOKIE) != current:
            response.set_cookie(
                SCRIPT_COOKIE, current, path=self.path, secure=self.secure, samesite="lax"
            )
        return response


async def _submitted_token(request: Request) -> str | None:
    for header in HEADER_NAMES:
        if header in request.headers:
            return request.headers[header]
    if request.headers.get("content-type", "").lower().startswith(FORM_TYPES):
        # Read the body first: BaseHTTPMiddleware then replays it to the admin.
        await request.body()
        async with request.form() as form:
            for field in FIELD_NAMES:
                value = form.get(field)
                if isinstance(value, str):
                    return value
    return None
