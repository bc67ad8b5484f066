"""What the views depend on: the settings, the client address and the current user.

`login_required` loads the current user from the bearer token or answers 401.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request

from example.client_address import client_address as resolve_client_address
from example.db import get_session
from example.errors import abort_json
from example.models import MAX_ID, User
from example.security import decode_access_token
from example.settings import Settings

SECURITY_SCHEME_NAME = "OAuth2PasswordBearer"
LOGIN_PATH = "/api/v1/auth/token"
# The OpenAPI `security` of every protected operation.
BEARER: list[dict[str, list[str]]] = [{SECURITY_SCHEME_NAME: []}]
SECURITY_SCHEME = {
    "type": "oauth2",
    "flows": {"password": {"tokenUrl": LOGIN_PATH, "scopes": {}}},
}

NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Could not validate credentials"
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def get_settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def client_address() -> str:
    """This request's client address (client_address.py: TRUSTED_PROXIES decide)."""
    return resolve_client_address(
        request.remote_addr,
        request.headers.getlist("X-Forwarded-For"),
        get_settings().trusted_proxies,
    )


def get_current_user() -> User:
    """The user `login_required` authenticated for this request."""
    user: User = g.current_user
    return user


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view only for a request bearing a valid token of an active user.

    Place it above the flask-smorest `arguments` decorator: the token is checked
    before the body is read, so a stranger gets 401, never a validation error.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.current_user = _authenticate()
        return view(*args, **kwargs)

    return wrapper


def _authenticate() -> User:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        abort_json(401, NOT_AUTHENTICATED, BEARER_CHALLENGE)
    settings = get_settings()
    claims = decode_access_token(token.strip(), settings.secret_key)
    user = None
    if claims is not None and 1 <= claims.user_id <= MAX_ID:
        user = get_session().get(User, claims.user_id)
    if user is None or claims is None or not user.accepts_token(claims.issued_at):
        abort_json(401, INVALID_CREDENTIALS, BEARER_CHALLENGE)
    return user
