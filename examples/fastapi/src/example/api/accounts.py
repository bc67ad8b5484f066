"""Accounts: sign up, change one's password, reset a forgotten one by e-mail.

POST /api/v1/users (when REGISTRATION_OPEN), POST /api/v1/users/me/password,
POST /api/v1/auth/password-reset and POST /api/v1/auth/password-reset/confirm. What the
flavors share (the statements, the messages, the e-mail) is in accounts.py.
"""

from functools import partial
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool

from example import accounts, mail
from example.api.auth import limit_attempts
from example.deps import CurrentUser, SessionDep, SettingsDep
from example.errors import BodyErrorRoute
from example.models import User
from example.schemas import (
    Message,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    Signup,
    UserRead,
)
from example.security import hash_password, verify_password
from example.settings import Settings

router = APIRouter(tags=["accounts"], route_class=BodyErrorRoute)

TOO_MANY: dict[int | str, dict[str, Any]] = {
    status.HTTP_429_TOO_MANY_REQUESTS: {
        "model": Message,
        "description": "Too many attempts from this address (the login rate limit)",
    }
}


async def registration_open(settings: SettingsDep) -> None:
    """403 unless REGISTRATION_OPEN is on (before the body is validated)."""
    if not settings.registration_open:
        raise HTTPException(status.HTTP_403_FORBIDDEN, accounts.REGISTRATION_CLOSED)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    dependencies=[Depends(registration_open), Depends(limit_attempts("signup"))],
    responses={
        status.HTTP_403_FORBIDDEN: {"model": Message, "description": "Registration is closed"},
        status.HTTP_409_CONFLICT: {"model": Message, "description": "The e-mail address is taken"},
        **TOO_MANY,
    },
)
async def sign_up(body: Signup, session: SessionDep) -> User:
    """Create an account (never a superuser): open while REGISTRATION_OPEN is on."""
    # Argon2 is deliberately slow: off the event loop.
    hashed_password = await run_in_threadpool(hash_password, body.password)
    user = User(
        email=body.email, hashed_password=hashed_password, is_active=True, is_superuser=False
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:  # the e-mail address is the only unique column a user sets
        await session.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, accounts.EMAIL_TAKEN) from None
    return user


@router.post(
    "/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        status.HTTP_400_BAD_REQUEST: {
            "model": Message,
            "description": "The current password is wrong",
        },
        status.HTTP_401_UNAUTHORIZED: {"model": Message},
    },
)
async def change_password(body: PasswordChange, user: CurrentUser, session: SessionDep) -> None:
    """Change the current user's password: every token issued before it stops working."""
    if not await run_in_threadpool(verify_password, body.current_password, user.hashed_password):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, accounts.INCORRECT_PASSWORD)
    user.hashed_password = await run_in_threadpool(hash_password, body.new_password)
    await session.commit()


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(limit_attempts("password-reset"))],
    responses={
        status.HTTP_202_ACCEPTED: {
            "description": "The same answer whether or not the account exists"
        },
        **TOO_MANY,
    },
)
async def request_password_reset(
    body: PasswordResetRequest,
    background: BackgroundTasks,
    request: Request,
    settings: SettingsDep,
) -> Message:
    """E-mail a single-use link to reset the password, if an active account has the address."""
    # After the response has been sent: neither the answer nor its timing tells whether the
    # account exists, and a mail server that is down fails nothing.
    background.add_task(deliver_password_reset, request.state.sessionmaker, settings, body.email)
    return Message(detail=accounts.RESET_REQUESTED)


async def deliver_password_reset(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, email: str
) -> None:
    """If an active user has this address: a new reset token, e-mailed."""
    async with sessionmaker() as session, session.begin():
        token = await session.run_sync(
            accounts.issue_reset_token, email, settings.password_reset_expire_minutes
        )
    if token is not None:
        # The mail thread (mail.py) sends it: a slow mail server holds up no worker thread.
        mail.send_later(partial(mail.send, settings, accounts.reset_email(settings, email, token)))


@router.post(
    "/auth/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        status.HTTP_400_BAD_REQUEST: {
            "model": Message,
            "description": "Unknown, expired or spent token",
        }
    },
)
async def confirm_password_reset(body: PasswordResetConfirm, session: SessionDep) -> None:
    """Set a new password with the token of a reset e-mail, which is spent: every token issued
    before it, access or reset, stops working."""
    spent = (await session.execute(accounts.spend_reset_token(body.token))).one_or_none()
    user = await session.get(User, spent[0]) if spent else None
    if spent is None or user is None or not accounts.may_reset(user, spent[1]):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, accounts.INVALID_RESET_TOKEN)
    user.hashed_password = await run_in_threadpool(hash_password, body.new_password)
    await session.commit()
