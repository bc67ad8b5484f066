import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from example.cli import app
from example.models import User
from example.security import verify_password
from example.settings import Settings, get_settings

runner = CliRunner()
PROJECT_ROOT = Path(__file__).resolve().parents[1]


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
        [
            "create-user",
            "--email",
            "Root@Example.com",
            "--password",
            "pw-1234567890",
            "--superuser",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "Created superuser root@example.com" in result.output
    user = _user(engine, "root@example.com")
    assert user is not None
    assert user.is_superuser
    assert verify_password("pw-1234567890", user.hashed_password)


def test_create_user_again_updates_password_and_role(engine: Engine) -> None:
    runner.invoke(
        app,
        ["create-user", "--email", "a@example.com", "--password", "password-one", "--superuser"],
    )

    result = runner.invoke(
        app, ["create-user", "--email", "a@example.com", "--password", "password-two"]
    )

    assert result.exit_code == 0, result.output
    assert "Updated user a@example.com" in result.output
    user = _user(engine, "a@example.com")
    assert user is not None
    assert not user.is_superuser
    assert verify_password("password-two", user.hashed_password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "not-an-email", "--password", "pw-1234567890"], "is not an e-mail address"),
        (["--email", "a@@example.com", "--password", "pw-1234567890"], "is not an e-mail address"),
        (["--email", "a b@example.com", "--password", "pw-1234567890"], "is not an e-mail address"),
        (["--email", "a@example.com", "--password", ""], "must have at least 12 characters"),
        (["--email", "a@example.com", "--password", "p" * 11], "must have at least 12 characters"),
        (["--email", "a@example.com", "--password", "p" * 129], "must have at most 128 characters"),
    ],
    ids=[
        "no-at-sign",
        "two-at-signs",
        "a-space",
        "empty-password",
        "short-password",
        "long-password",
    ],
)
def test_create_user_rejects_bad_input(args: list[str], message: str, engine: Engine) -> None:
    result = runner.invoke(app, ["create-user", *args])

    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert message in line
    with Session(engine) as session:
        assert session.scalars(select(User)).all() == []


def test_serve_hands_its_options_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6379/0")  # more than one worker needs it
    get_settings.cache_clear()
    calls: list[tuple[str, int, int]] = []
    monkeypatch.setattr(
        "example.server.run_server",
        lambda host, port, workers: calls.append((host, port, workers)),
    )

    args = ["serve", "--host", "192.0.2.10", "--port", "9000", "--workers", "3"]
    result = runner.invoke(app, args)

    assert result.exit_code == 0, result.output
    assert calls == [("192.0.2.10", 9000, 3)]


def _serve_with(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str, **environment: str | None
) -> tuple[list[int], str, int]:
    """`serve` with `args` in a directory of its own (its .env, if any, in tmp_path) with
    `environment` (None: unset); what reached the server, the output and the exit code."""
    calls: list[int] = []
    monkeypatch.setattr(
        "example.server.run_server",
        lambda host, port, workers: calls.append(port),
    )
    monkeypatch.chdir(tmp_path)
    for name, value in environment.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    result = runner.invoke(app, ["serve", *args])
    return calls, result.output, result.exit_code


@pytest.mark.parametrize(
    ("environment", "secret", "named"),
    [
        (None, None, "ENVIRONMENT=production"),  # both unset: production, no key
        ("production", "k" * 31, "ENVIRONMENT=production"),
        ("development", None, "ENVIRONMENT=development"),
        ("development", "k" * 31, "ENVIRONMENT=development"),
    ],
    ids=["defaults", "short-in-production", "missing-in-development", "short-in-development"],
)
def test_serve_refuses_a_missing_or_short_secret_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    environment: str | None,
    secret: str | None,
    named: str,
) -> None:
    calls, output, exit_code = _serve_with(
        monkeypatch, tmp_path, ENVIRONMENT=environment, SECRET_KEY=secret
    )

    assert exit_code == 1
    [line] = output.splitlines()
    assert line.startswith("Error: SECRET_KEY must be set to a random string of at least 32")
    assert named in line
    assert calls == []


def test_serve_refuses_a_copy_of_env_example(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shutil.copy(PROJECT_ROOT / ".env.example", tmp_path / ".env")

    calls, output, exit_code = _serve_with(monkeypatch, tmp_path, ENVIRONMENT=None, SECRET_KEY=None)

    assert exit_code == 1
    [line] = output.splitlines()
    assert line.startswith("Error: SECRET_KEY must be set")
    assert calls == []


@pytest.mark.parametrize(
    ("environment", "secret"),
    [("production", "k" * 32), ("testing", None)],
    ids=["long-enough", "testing-needs-none"],
)
def test_serve_starts_with_a_long_secret_or_in_testing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: str, secret: str | None
) -> None:
    calls, output, exit_code = _serve_with(
        monkeypatch, tmp_path, ENVIRONMENT=environment, SECRET_KEY=secret
    )

    assert exit_code == 0, output
    assert calls == [8000]


@pytest.mark.parametrize(
    ("redis_url", "workers", "started"),
    [(None, "2", []), (None, "1", [8000]), ("redis://localhost:6379/0", "2", [8000])],
    ids=["two-without-redis", "one-without-redis", "two-with-redis"],
)
def test_serve_refuses_more_than_one_worker_without_redis_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    redis_url: str | None,
    workers: str,
    started: list[int],
) -> None:
    calls, output, exit_code = _serve_with(
        monkeypatch, tmp_path, "--workers", workers, ENVIRONMENT="testing", REDIS_URL=redis_url
    )

    assert calls == started
    if started:
        assert exit_code == 0, output
    else:
        assert exit_code == 2
        [line] = output.splitlines()
        assert line.startswith("Error: --workers 2 needs REDIS_URL")


def test_serve_refuses_a_setting_that_is_not_valid_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls, output, exit_code = _serve_with(
        monkeypatch, tmp_path, ENVIRONMENT="testing", TRUSTED_PROXIES="proxy.example"
    )

    assert exit_code == 1
    [line] = output.splitlines()
    assert line.startswith("Error: invalid setting, TRUSTED_PROXIES: ")
    assert "proxy.example" not in line  # a setting's value is never echoed: it may be a secret
    assert calls == []
