"""FastAPI-specific plumbing: the middleware (request ids, the access log, CORS)."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from example.app import create_app
from example.settings import Settings
from tests.common import ApiClient


def test_an_unsafe_request_id_is_replaced(client: ApiClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})

    assert response.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(response.headers["X-Request-ID"]) == 32


@pytest.mark.parametrize("settings_overrides", [{"log_level": "INFO"}])
def test_each_request_writes_one_json_access_log_line(
    capsys: pytest.CaptureFixture[str], settings: Settings, engine: Engine
) -> None:
    with TestClient(create_app(settings)) as client:
        capsys.readouterr()
        client.get("/api/v1/nothing", headers={"X-Request-ID": "req-1"})

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [entry] = [line for line in lines if line.get("event") == "request"]
    assert entry["request_id"] == "req-1"
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/v1/nothing"
    assert entry["status"] == 404
    assert entry["duration_ms"] >= 0


@pytest.mark.parametrize("settings_overrides", [{"cors_origins": []}])
def test_no_cors_headers_without_configured_origins(client: ApiClient) -> None:
    response = client.get("/health", headers={"Origin": "http://localhost:3000"})

    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_the_configured_origins(client: ApiClient) -> None:
    response = client.get("/health", headers={"Origin": "http://localhost:3000"})

    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
