"""Application settings, read from the environment and `.env` (pydantic-settings)."""

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Only ever used in development and testing; production refuses it (see below).
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me-0123456789"  # noqa: S105


class Settings(BaseSettings):
    """Every setting has the same name in both flavors of the template."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "testing", "production"] = "development"
    database_url: str = "sqlite:///./example.db"
    secret_key: str = DEVELOPMENT_SECRET_KEY
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

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _require_real_secret(self) -> "Settings":
        # A forgotten SECRET_KEY would let anyone forge tokens and sessions.
        insecure = self.secret_key.strip() in ("", DEVELOPMENT_SECRET_KEY)
        if self.environment == "production" and insecure:
            msg = "SECRET_KEY must be set to a random value when ENVIRONMENT=production"
            raise ValueError(msg)
        return self

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
