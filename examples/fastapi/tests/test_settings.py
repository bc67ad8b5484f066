import pytest
from pydantic import ValidationError

from example.settings import DEVELOPMENT_SECRET_KEY, Settings


@pytest.mark.parametrize("secret", ["", "   ", DEVELOPMENT_SECRET_KEY])
def test_production_refuses_a_missing_or_default_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=secret, _env_file=None)


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(environment="production", secret_key="x" * 64, _env_file=None)

    assert settings.environment == "production"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/app")

    settings = Settings(_env_file=None)

    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.log_level == "DEBUG"
    assert settings.sync_database_url == "postgresql+psycopg://u:p@db:5432/app"
    assert settings.async_database_url == "postgresql+asyncpg://u:p@db:5432/app"


def test_sqlite_urls_keep_their_path() -> None:
    settings = Settings(database_url="sqlite:///./data/app.db", _env_file=None)

    assert settings.sync_database_url == "sqlite:///./data/app.db"
    assert settings.async_database_url == "sqlite+aiosqlite:///./data/app.db"
