from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from example.app import create_app
from example.settings import (
    REFUSED_EXIT_STATUS,
    InsecureSettingsError,
    Settings,
    get_settings,
)


def test_the_environment_is_production_and_there_is_no_key_unless_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)

    settings = Settings(_env_file=None)

    assert settings.environment == "production"
    assert settings.secret_key == ""
    with pytest.raises(InsecureSettingsError, match="ENVIRONMENT=production"):
        settings.require_secret_key()


@pytest.mark.parametrize("environment", ["production", "development"])
@pytest.mark.parametrize("secret", ["", " " * 40, "k" * 31], ids=["missing", "blank", "short"])
def test_a_missing_or_short_secret_is_refused_outside_testing(
    environment: str, secret: str
) -> None:
    settings = Settings(environment=environment, secret_key=secret, _env_file=None)

    with pytest.raises(InsecureSettingsError) as refused:
        settings.require_secret_key()
    message = str(refused.value)
    assert message.startswith("SECRET_KEY must be set")
    assert "\n" not in message


def test_the_app_is_not_built_with_a_short_secret() -> None:
    settings = Settings(environment="production", secret_key="k" * 31, _env_file=None)

    with pytest.raises(InsecureSettingsError, match=r"^SECRET_KEY"):
        create_app(settings)


@pytest.fixture
def server_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The environment of a production server start, its settings read afresh."""
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SECRET_KEY", "k" * 31, "SECRET_KEY must be set"),
        ("WS_MAX_CONNECTIONS", "many", "invalid setting, WS_MAX_CONNECTIONS: "),
    ],
    ids=["short-secret", "wrong-type"],
)
def test_a_server_start_with_refused_settings_ends_in_one_line(
    server_environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    named: str,
) -> None:
    """create_app() without settings, as a plain gunicorn or uvicorn start calls it."""
    server_environment.setenv(variable, value)

    with pytest.raises(SystemExit) as exited:
        create_app()

    assert exited.value.code == REFUSED_EXIT_STATUS
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"Error: {named}"), line


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


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16,2001:db8::/32")

    settings = Settings(environment="testing", secret_key="x" * 64, _env_file=None)

    assert [str(proxy) for proxy in settings.trusted_proxies] == [
        "10.0.0.5/32",
        "192.168.0.0/16",
        "2001:db8::/32",
    ]


@pytest.mark.parametrize("proxies", ["proxy.example", "10.0.0.5/8", "10.0.0.0/33"])
def test_a_trusted_proxy_that_is_no_address_is_refused(proxies: str) -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(
            trusted_proxies=proxies, environment="testing", secret_key="x" * 64, _env_file=None
        )


def test_no_proxy_is_trusted_by_default() -> None:
    settings = Settings(environment="testing", secret_key="x" * 64, _env_file=None)

    assert settings.trusted_proxies == []
