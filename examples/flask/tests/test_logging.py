"""No secret in any log line (API-CONTRACT.md, "Hardening"): no query string, token or
password, whoever writes the line (the app, the server, a library)."""

import importlib
import importlib.util
import io
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine

from example import logging_config
from example.app import create_app
from example.logging_config import configure_logging
from example.settings import Settings
from tests.common import ApiClient, MakeUser

SECRET = "s3cret-marker"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLW1hcmtlcg"
LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines(client: ApiClient, root_logger_kept: None) -> LogLines:
    """The JSON lines logged from here on (at INFO, as in production), parsed."""
    configure_logging("INFO")
    stream = io.StringIO()
    [handler] = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    return lines


def assert_no_secret(lines: list[dict[str, Any]]) -> None:
    assert lines
    text = json.dumps(lines)
    assert SECRET not in text, text
    assert TOKEN not in text, text
    assert "eyJ" not in text, text
    assert "?" not in text.replace("? ", ""), text


def test_server_request_lines_lose_their_query_string(log_lines: LogLines) -> None:
    # uvicorn's WebSocket and access lines, Werkzeug's and gunicorn's request lines.
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:50000", f"/api/v1/ws/items?token={TOKEN}"
    )
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET", f"/api/v1/items?q={SECRET}", "1.1", 200
    )
    logging.getLogger("werkzeug").info('"GET /docs?api_key=%s HTTP/1.1" 200 -', SECRET)

    lines = log_lines()

    assert_no_secret(lines)
    assert '"WebSocket /api/v1/ws/items" [accepted]' in lines[0]["event"]
    assert '"GET /api/v1/items HTTP/1.1" 200' in lines[1]["event"]


def test_secret_fields_tokens_and_tracebacks_are_redacted(log_lines: LogLines) -> None:
    log = structlog.get_logger("example.test")
    log.info("login", password=SECRET, access_token=TOKEN, email="ada@example.com")
    log.info("header", value=f"Authorization: Bearer {SECRET}", raw=f"password={SECRET}&x=1")
    try:
        raise ValueError(f"no such page: /items?token={TOKEN}")
    except ValueError:
        log.exception("failed")

    lines = log_lines()

    assert_no_secret(lines)
    assert lines[0]["email"] == "ada@example.com"
    assert lines[2]["exception"].endswith("ValueError: no such page: /items")


@pytest.mark.parametrize(
    "text",
    [
        f"PASSWORD={SECRET}",
        f"Api-Token: {SECRET}",
        f"authorization: BEARER {SECRET}",
        f"client_\u017fecret={SECRET}",  # a long s, which case-insensitive matching takes for s
    ],
)
def test_secrets_are_redacted_whatever_their_case(log_lines: LogLines, text: str) -> None:
    structlog.get_logger("example.test").info("said", value=text, path="/api/v1/items")

    [line] = log_lines()

    assert SECRET not in json.dumps(line)
    assert line["path"] == "/api/v1/items"


def test_gunicorn_lines_are_redacted_in_its_own_handlers(log_lines: LogLines) -> None:
    # gunicorn's loggers write through handlers of their own (not the root's JSON one).
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    gunicorn = logging.getLogger("gunicorn.error")
    gunicorn.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"password={SECRET}")
        except RuntimeError:
            gunicorn.exception("Error handling request %s", f"/api/v1/items?token={TOKEN}")
    finally:
        gunicorn.removeHandler(handler)

    written = stream.getvalue()
    assert "Error handling request /api/v1/items" in written
    assert SECRET not in written
    assert TOKEN not in written
    assert "?" not in written


@pytest.mark.parametrize("settings_overrides", [{"log_level": "INFO"}])
def test_requests_log_no_query_string_nor_password(
    client: ApiClient, make_user: MakeUser, log_lines: LogLines
) -> None:
    make_user("ada@example.com")

    client.get(f"/api/v1/items?limit=5&token={TOKEN}")
    client.post("/api/v1/auth/token", data={"username": "ada@example.com", "password": SECRET})
    client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {TOKEN}"})

    lines = log_lines()
    assert_no_secret(lines)
    paths = [line["path"] for line in lines if line.get("event") == "request"]
    assert paths == ["/api/v1/items", "/api/v1/auth/token", "/api/v1/users/me"]


@pytest.mark.parametrize("settings_overrides", [{"log_level": "INFO"}])
@pytest.mark.usefixtures("root_logger_kept")
def test_building_the_app_logs_nothing_at_info(
    settings: Settings, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each worker builds the app as it starts: its libraries' own set-up narration
    (Starlette-Admin's ran to a dozen lines) stays out of the logs at INFO."""
    create_app(settings)

    assert capsys.readouterr().out == ""


def test_structlog_comes_without_rich_which_stays_importable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """structlog loads rich (~0.1 s, ~4 MiB per process) when it is installed, for a console
    these JSON lines never use: logging_config imports it with rich hidden. Imported afresh
    here, as in a new process (the modules of the run are put back afterwards)."""
    for name in list(sys.modules):
        if name.partition(".")[0] in {"rich", "structlog"} or name == logging_config.__name__:
            monkeypatch.delitem(sys.modules, name)
    # The import sets the package's attribute too: it is put back with the modules.
    monkeypatch.setattr(sys.modules["example"], "logging_config", logging_config)

    fresh = importlib.import_module(logging_config.__name__)

    assert "rich" not in sys.modules
    assert fresh.structlog.dev.rich is None  # what structlog saw: no rich
    assert importlib.util.find_spec("rich") is not None  # still installed, importable
