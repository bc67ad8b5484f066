"""Dependencies the endpoints declare: the settings, a database session, the current user."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from example.client_address import client_address as resolve_client_address
from example.models import MAX_ID, User
from example.security import decode_access_token
from example.settings import Settings

# auto_error=False: the 401 for a missing token is raised below, with the same
# message and challenge header as the other authentication failures.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token", scheme_name="OAuth2PasswordBearer", auto_error=False
)

BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with (tests create apps with their own).

    `async`, though it awaits nothing: FastAPI runs a plain `def` dependency in a worker
    thread, a hand-off that costs more than the dependency itself."""
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: HTTPConnection, settings: Settings) -> str:
    """This request's client address (client_address.py: TRUSTED_PROXIES decide)."""
    return resolve_client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        settings.trusted_proxies,
    )


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, from the sessionmaker the lifespan put in the request state."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    async with sessionmaker() as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for an endpoint that only reads: no transaction around its statements on
    PostgreSQL (sqlite.read_execution_options). Never use it to write."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    options: dict[str, Any] = request.state.read_execution_options
    async with sessionmaker() as session:
        if options:
            await session.connection(execution_options=options)
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
) -> User:
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "Not authenticated", headers=BEARER_CHALLENGE
        )
    claims = decode_access_token(token, settings.secret_key)
    user = None
    # An out-of-range id can name no row, and would overflow the database driver.
    if claims is not None and 1 <= claims.user_id <= MAX_ID:
        user = await session.get(User, claims.user_id)
    if user is None or claims is None or not user.accepts_token(claims.issued_at):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Could not validate credentials",
            headers=BEARER_CHALLENGE,
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
