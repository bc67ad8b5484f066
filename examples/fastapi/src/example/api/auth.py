"""POST /api/v1/auth/token: the OAuth2 password flow, issuing JWT bearer tokens."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, status
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from example.deps import (
    BEARER_CHALLENGE,
    SessionDep,
    SettingsDep,
    client_address,
)
from example.errors import BodyErrorRoute
from example.headers import NO_STORE
from example.models import User
from example.ratelimit import LoginRateLimiter
from example.schemas import Message, Token, TokenRequest
from example.security import create_access_token, verify_password
from example.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"], route_class=BodyErrorRoute)

LOGIN_FAILED = "Incorrect email or password"
TOO_MANY_ATTEMPTS = "Too many login attempts; try again later"


def too_many_attempts(retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        TOO_MANY_ATTEMPTS,
        headers={"Retry-After": str(retry_after)},
    )


def limit_attempts(via: str) -> Callable[[Request, Settings], Awaitable[str]]:
    """A dependency counting every attempt (successful or not) per client address: 429 over
    AUTH_RATE_LIMIT. The login limit, shared by every endpoint that takes it (`via` names it
    in the log). The dependency's value is the client address, for the endpoint."""

    async def limit(request: Request, settings: SettingsDep) -> str:
        limiter: LoginRateLimiter = request.app.state.login_limiter
        client = client_address(request, settings)
        # Off the event loop: with REDIS_URL set, the limiter makes a network round trip.
        retry_after = await run_in_threadpool(limiter.admit, client, via)
        if retry_after is not None:
            raise too_many_attempts(retry_after)
        return client

    return limit


limit_login_attempts = limit_attempts("token")


@router.post(
    "/token",
    responses={
        status.HTTP_401_UNAUTHORIZED: {"model": Message},
        status.HTTP_429_TOO_MANY_REQUESTS: {"model": Message},
    },
)
async def issue_token(
    client: Annotated[str, Depends(limit_login_attempts)],
    form: Annotated[TokenRequest, Form()],
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    request: Request,
) -> Token:
    """Exchange an e-mail address (`username`) and password for a bearer token."""
    email = form.username.strip().lower()
    limiter: LoginRateLimiter = request.app.state.login_limiter
    retry_after = await run_in_threadpool(limiter.admit_account, email, client, "token")
    if retry_after is not None:
        raise too_many_attempts(retry_after)
    user = await session.scalar(select(User).where(User.email == email))
    # Argon2 is deliberately slow: verify off the event loop. Same answer, and about
    # the same time, whether or not the account exists.
    password_ok = await run_in_threadpool(
        verify_password, form.password, user.hashed_password if user else None
    )
    if user is None or not password_ok or not user.is_active:
        await run_in_threadpool(limiter.failed, email, client, "token")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, LOGIN_FAILED, headers=BEARER_CHALLENGE)
    limiter.succeeded(email, client, "token", user.id)
    token = create_access_token(user.id, settings.secret_key, settings.access_token_expire_minutes)
    # A token is a credential: no cache (the browser's, a proxy's) keeps it.
    response.headers.update(dict([NO_STORE]))
    return Token(access_token=token)
