"""Database models, shared by the API, the admin and Alembic."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The largest id an id column holds (`Integer`: 32 bits on PostgreSQL). A larger id names
# nothing and must not reach the database driver, which refuses it (a 500 otherwise).
MAX_ID = 2**31 - 1
# PostgreSQL's text columns cannot hold the NUL character (SQLite's can): text with one is
# refused where it comes in (a 422, a form error), alike on every database, and
# database_errors.refuse_nul_characters keeps it from the driver wherever else it comes from.
NUL = "\x00"
# What a text field matches: anything but the NUL character (in the OpenAPI schemas too).
TEXT_PATTERN = r"^[^\x00]*$"

# Stable constraint names, so that Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the password was last set or the account deactivated: tokens issued before it
    # are refused (see accepts_token). Kept up to date by the listeners below.
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.email

    def accepts_token(self, issued_at: float) -> bool:
        """Whether a token issued at `issued_at` (seconds since the epoch) still holds:
        the account is active and the token is not older than its last password change."""
        return self.is_active and issued_at >= self.password_changed_at.timestamp()


# Wherever a password is set (the CLI, the admin, the API) or an account deactivated, the
# tokens issued until then stop working: written once here rather than at every such place.
@event.listens_for(User.hashed_password, "set")
def _password_set(target: User, value: str, oldvalue: Any, initiator: Any) -> None:
    if value != oldvalue:
        target.password_changed_at = utcnow()


@event.listens_for(User.is_active, "set")
def _active_set(target: User, value: bool, oldvalue: Any, initiator: Any) -> None:
    if not value and oldvalue is not False:
        target.password_changed_at = utcnow()


class PasswordResetToken(Base):
    """A password reset that was asked for (accounts.py): the e-mail holds a random token, this
    row only its SHA-256. Spent (deleted) when used; refused after `expires_at`, or when the
    password changed after it was issued."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AdminSession(Base):
    """A logged-in admin session (admin_sessions.py): the cookie holds a random token, this row
    its SHA-256. Logging out deletes the row, so the old cookie no longer works anywhere."""

    __tablename__ = "admin_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Fixed at login: a session ends at this time however active it is.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# Last: the models of the resources added with `scaffold add resource` (resources/), which
# import this module's Base. Every table is then in Base.metadata, wherever it is read.
from example.resources import modules  # noqa: E402

modules("model")
