from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from example.cli import app
from example.models import User
from example.security import verify_password
from example.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cli_uses_the_test_database(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _user(engine: Engine, email: str) -> User | None:
    with Session(engine) as session:
        return session.scalar(select(User).where(User.email == email))


def test_create_user_creates_a_superuser(engine: Engine) -> None:
    result = runner.invoke(
        app,
        ["create-user", "--email", "Root@Example.com", "--password", "pw-123456", "--superuser"],
    )

    assert result.exit_code == 0, result.output
    assert "Created superuser root@example.com" in result.output
    user = _user(engine, "root@example.com")
    assert user is not None
    assert user.is_superuser
    assert verify_password("pw-123456", user.hashed_password)


def test_create_user_again_updates_password_and_role(engine: Engine) -> None:
    runner.invoke(
        app, ["create-user", "--email", "a@example.com", "--password", "one", "--superuser"]
    )

    result = runner.invoke(app, ["create-user", "--email", "a@example.com", "--password", "two"])

    assert result.exit_code == 0, result.output
    assert "Updated user a@example.com" in result.output
    user = _user(engine, "a@example.com")
    assert user is not None
    assert not user.is_superuser
    assert verify_password("two", user.hashed_password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email", "--password", "pw"], "is not an e-mail address"),
        (["--email", "a@example.com", "--password", ""], "must not be empty"),
    ],
)
def test_create_user_rejects_bad_input(args: list[str], message: str, engine: Engine) -> None:
    result = runner.invoke(app, ["create-user", *args])

    assert result.exit_code == 2
    assert message in result.output
    with Session(engine) as session:
        assert session.scalars(select(User)).all() == []


def test_serve_hands_its_options_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int, int]] = []
    monkeypatch.setattr(
        "example.server.run_server",
        lambda host, port, workers: calls.append((host, port, workers)),
    )

    args = ["serve", "--host", "192.0.2.10", "--port", "9000", "--workers", "3"]
    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert calls == [("192.0.2.10", 9000, 3)]
