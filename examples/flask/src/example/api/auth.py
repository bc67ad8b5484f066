"""POST /api/v1/auth/token: the OAuth2 password flow, issuing JWT bearer tokens."""

from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

from flask import Flask, current_app
from sqlalchemy import select

from example.api.blueprint import make_blueprint
from example.db import get_session
from example.deps import BEARER_CHALLENGE, client_address, get_settings
from example.errors import abort_json
from example.headers import NO_STORE
from example.models import User
from example.ratelimit import LoginRateLimiter
from example.schemas import (
    HTTPError,
    HTTPValidationError,
    Token,
    TokenRequest,
)
from example.security import create_access_token, verify_password
from example.settings import Settings

blp = make_blueprint("auth", url_prefix="/api/v1/auth", description="Log in.")

LOGIN_FAILED = "Incorrect email or password"
TOO_MANY_ATTEMPTS = "Too many login attempts; try again later"
LIMITER_KEY = "example.login_rate_limiter"
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds until the client may try again",
        "schema": {"type": "integer"},
    }
}


def init_rate_limit(app: Flask, settings: Settings) -> None:
    """Give the app its login rate limiter (memory, or Redis when REDIS_URL is set)."""
    app.extensions[LIMITER_KEY] = LoginRateLimiter(settings.auth_rate_limit, settings.redis_url)


def login_limiter() -> LoginRateLimiter:
    """The app's one login limiter (the token endpoint's and the admin login's)."""
    limiter: LoginRateLimiter = current_app.extensions[LIMITER_KEY]
    return limiter


def too_many_attempts(retry_after: int) -> NoReturn:
    abort_json(429, TOO_MANY_ATTEMPTS, {"Retry-After": str(retry_after)})


def limit_attempts(via: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Count every attempt from the client's address; over AUTH_RATE_LIMIT answer 429. The
    login limit, shared by every endpoint that takes it (`via` names it in the log).

    Place it above the flask-smorest `arguments` decorator, so that malformed attempts
    count too and a limited client is refused before its body is read.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            retry_after = login_limiter().admit(client_address(), via=via)
            if retry_after is not None:
                too_many_attempts(retry_after)
            return view(*args, **kwargs)

        return wrapper

    return decorate


limit_login_attempts = limit_attempts("token")


@blp.route("/token", methods=["POST"])
@limit_login_attempts
@blp.arguments(TokenRequest, location="form")
@blp.response(200, Token)
@blp.alt_response(401, schema=HTTPError, description="Wrong e-mail or password")
@blp.alt_response(422, schema=HTTPValidationError)
@blp.alt_response(
    429,
    schema=HTTPError,
    description="Too many login attempts from this address or on this account",
    headers=RETRY_AFTER_HEADER,
)
def issue_token(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Exchange an e-mail address and password for a bearer token."""
    email = form["username"].strip().lower()
    limiter, client = login_limiter(), client_address()
    retry_after = limiter.admit_account(email, client, via="token")
    if retry_after is not None:
        too_many_attempts(retry_after)
    user = get_session().scalar(select(User).where(User.email == email))
    # Same answer, and about the same time, whether or not the account exists.
    password_ok = verify_password(form["password"], user.hashed_password if user else None)
    if user is None or not password_ok or not user.is_active:
        limiter.failed(email, client, via="token")
        abort_json(401, LOGIN_FAILED, BEARER_CHALLENGE)
    limiter.succeeded(email, client, via="token", user_id=user.id)
    settings = get_settings()
    token = create_access_token(user.id, settings.secret_key, settings.access_token_expire_minutes)
    # A token is a credential: no cache (the browser's, a proxy's) keeps it.
    return {"access_token": token, "token_type": "bearer"}, dict([NO_STORE])
