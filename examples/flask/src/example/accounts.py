"""Accounts: what both flavors' signup, password change and password reset share.

The database work each flavor runs on its own session (synchronous or not), the messages,
and the reset e-mail. A password reset goes:
1. POST /api/v1/auth/password-reset answers 202 at once, with one body for every address.
   After the response (or in the Celery worker), `issue_reset_token` looks the address up;
   an active user gets a new token by e-mail (`reset_email`), the database only its digest.
   Neither the answer nor the time it takes depends on whether the account exists.
2. POST /api/v1/auth/password-reset/confirm spends the token (`spend_reset_token` deletes its
   row: it works once) and sets the new password, which revokes every earlier access token
   and reset token (models.User.password_changed_at).
"""

import secrets
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningDelete

from example import mail
from example.models import PasswordResetToken, User, utcnow
from example.security import token_digest
from example.settings import Settings

REGISTRATION_CLOSED = "Registration is closed"
EMAIL_TAKEN = "A user with this email already exists"
INCORRECT_PASSWORD = "Incorrect password"  # noqa: S105  # a message, not a password
RESET_REQUESTED = "If the account exists, an email is on its way"
INVALID_RESET_TOKEN = "Invalid or expired token"  # noqa: S105  # a message, not a token
RESET_SUBJECT = "Reset your Example password"


def issue_reset_token(session: Session, email: str, expire_minutes: int) -> str | None:
    """A new reset token for the active user with this (normalized) address, if there is one,
    in `session`'s transaction: the token to e-mail, while the row keeps only its digest.
    That user's earlier tokens go (the latest e-mail's link is the one that works), and so
    does every expired one (nothing else deletes them).

    Synchronous: the FastAPI flavor runs it with `AsyncSession.run_sync`."""
    user_id = session.scalar(select(User.id).where(User.email == email, User.is_active.is_(True)))
    if user_id is None:
        return None
    token = secrets.token_urlsafe(32)
    issued = utcnow()
    session.execute(
        delete(PasswordResetToken).where(
            or_(PasswordResetToken.user_id == user_id, PasswordResetToken.expires_at <= issued)
        )
    )
    session.add(
        PasswordResetToken(
            token_hash=token_digest(token),
            user_id=user_id,
            created_at=issued,
            expires_at=issued + timedelta(minutes=expire_minutes),
        )
    )
    return token


def spend_reset_token(token: str) -> ReturningDelete[int, datetime]:
    """Delete the unexpired reset token `token` names, returning its user's id and when it
    was issued (no row: unknown, expired or already spent). One statement, so that two
    requests with the same token cannot both use it."""
    return (
        delete(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == token_digest(token),
            PasswordResetToken.expires_at > utcnow(),
        )
        .returning(PasswordResetToken.user_id, PasswordResetToken.created_at)
    )


def may_reset(user: User, issued_at: datetime) -> bool:
    """Whether a reset token issued at `issued_at` may set `user`'s password: the user is
    active and has not changed the password since."""
    return user.is_active and issued_at >= user.password_changed_at


def reset_email(settings: Settings, email: str, token: str) -> EmailMessage:
    """The password reset e-mail: PASSWORD_RESET_URL with the token filled in."""
    values = {
        "email": email,
        "reset_url": settings.password_reset_url.replace("{token}", token),
        "expire_minutes": str(settings.password_reset_expire_minutes),
    }
    return mail.compose(settings, email, RESET_SUBJECT, "password_reset", values)
