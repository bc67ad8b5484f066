"""Application settings, read from the environment and `.env` (pydantic-settings)."""

import sys
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The shortest SECRET_KEY the app starts with (outside ENVIRONMENT=testing).
SECRET_KEY_MIN_LENGTH = 32


# A server that builds the app with refused settings exits with this status: a start-up
# failure to uvicorn (STARTUP_FAILURE) and gunicorn (WORKER_BOOT_ERROR), whose supervisors
# then stop instead of starting the worker again and again.
REFUSED_EXIT_STATUS = 3


class RefusedSettingsError(ValueError):
    """Settings the app must not start with; the message is one line naming the setting."""


class InsecureSettingsError(RefusedSettingsError):
    """A setting the app must not start with because it is not safe (SECRET_KEY)."""


class Settings(BaseSettings):
    """Every setting has the same name in both flavors of the template."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Production unless said otherwise: a deployment that forgets it must not run in a
    # laxer mode. The .env that scaffold generated says development.
    environment: Literal["development", "testing", "production"] = "production"
    database_url: str = "sqlite:///./example.db"
    # No default: the app refuses to start without one (see require_secret_key).
    secret_key: str = ""
    redis_url: str | None = None
    # A comma-separated list in the environment: "https://a.example,https://b.example".
    cors_origins: Annotated[list[str], NoDecode] = []
    auth_rate_limit: str = "10/minute"
    access_token_expire_minutes: int = 60
    # Open WebSocket connections (WS /api/v1/ws/items) per worker process; more are refused.
    ws_max_connections: Annotated[int, Field(ge=1)] = 100
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # GET /metrics in the Prometheus text format (metrics.py); off: /metrics is a 404.
    metrics_enabled: bool = False
    # The reverse proxies whose X-Forwarded-For is believed (client_address.py), comma-separated
    # addresses or networks: "10.0.0.5,192.168.0.0/16". None by default: the TCP peer is the client.
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = []
    # POST /api/v1/users: anyone may sign up (never as a superuser). Off: a 403.
    registration_open: bool = False
    # Outgoing e-mail (mail.py): the password reset's. SMTP_TLS: "starttls" upgrades the
    # connection, "ssl" speaks TLS from the start (usually port 465), "none" sends in the clear.
    smtp_host: str = "localhost"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    # The sender: an address, or a name and an address ("Acme <noreply@acme.example>").
    email_from: str = "noreply@example.com"
    # The link of the password reset e-mail: {token} is replaced by the token. After a `#`, as
    # here, the token stays in the browser: it never reaches a server's or a proxy's logs.
    password_reset_url: Annotated[str, Field(pattern=r"\{token\}")] = (
        "http://localhost:8000/reset-password#token={token}"  # noqa: S105  # a URL, not a secret
    )
    password_reset_expire_minutes: Annotated[int, Field(ge=1)] = 60

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def require_secret_key(self) -> None:
        """Refuse a missing or short SECRET_KEY, except with ENVIRONMENT=testing: anyone who
        guesses it forges tokens and admin sessions. Called wherever the app is built."""
        if self.environment != "testing" and len(self.secret_key.strip()) < SECRET_KEY_MIN_LENGTH:
            msg = (
                f"SECRET_KEY must be set to a random string of at least {SECRET_KEY_MIN_LENGTH}"
                f' characters (ENVIRONMENT={self.environment}); make one with: python -c "import'
                ' secrets; print(secrets.token_hex(32))"'
            )
            raise InsecureSettingsError(msg)

    @property
    def sync_database_url(self) -> str:
        """The URL for synchronous SQLAlchemy code (Alembic)."""
        return _with_driver(self.database_url, sqlite="sqlite", postgresql="postgresql+psycopg")

    @property
    def async_database_url(self) -> str:
        """The URL for the application's asynchronous engine."""
        return _with_driver(
            self.database_url, sqlite="sqlite+aiosqlite", postgresql="postgresql+asyncpg"
        )


def _with_driver(url: str, *, sqlite: str, postgresql: str) -> str:
    """Swap the scheme of a plain `sqlite://` / `postgresql://` URL for a driver-qualified one.

    Users write the plain URL once; each part of the app picks its driver.
    """
    scheme, sep, rest = url.partition("://")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"{sqlite}{sep}{rest}"
    if base in ("postgresql", "postgres"):
        return f"{postgresql}{sep}{rest}"
    return url


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def checked_settings() -> Settings:
    """The process-wide settings, or RefusedSettingsError (one line) for any the app must
    not start with: a value that is not valid, a missing or short SECRET_KEY."""
    try:
        settings = get_settings()
    except ValidationError as error:
        # The setting and what is wrong with it, never its value (it may be a secret).
        problems = "; ".join(
            f"{_setting_name(problem['loc'])}: {problem['msg']}" for problem in error.errors()
        )
        raise RefusedSettingsError(f"invalid setting, {problems}") from None
    settings.require_secret_key()
    return settings


def _setting_name(location: tuple[int | str, ...]) -> str:
    """The environment variable a validation error is about."""
    return str(location[0]).upper() if location else "SETTINGS"


def server_settings() -> Settings:
    """The settings of an app a server builds (a plain `gunicorn` or `uvicorn` start calls
    create_app() without any): refused ones end the process with one line on stderr, no
    traceback, and REFUSED_EXIT_STATUS."""
    try:
        return checked_settings()
    except RefusedSettingsError as error:
        print(f"Error: {error}", file=sys.stderr, flush=True)
        raise SystemExit(REFUSED_EXIT_STATUS) from None
