"""The Flask app's plumbing: request ids, access log, CORS, local Swagger UI assets."""

import logging

import pytest
from flask import Flask

from tests.common import ApiClient


def test_unsafe_request_ids_are_replaced(client: ApiClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "a b<script>"})

    assert response.headers["X-Request-ID"] != "a b<script>"
    assert len(response.headers["X-Request-ID"]) == 32


def test_each_request_writes_one_access_log_line(
    client: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        client.get("/api/v1/items?limit=5", headers={"X-Request-ID": "req-42"})

    [line] = [r.msg for r in caplog.records if r.name.endswith(".access")]
    assert isinstance(line, dict)
    assert line["event"] == "request"
    assert line["request_id"] == "req-42"
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/items"
    assert line["status"] == 200
    assert line["duration_ms"] >= 0


def test_cors_allows_the_configured_origins_only(client: ApiClient) -> None:
    allowed = client.get("/health", headers={"Origin": "http://localhost:3000"})
    other = client.get("/health", headers={"Origin": "https://evil.example"})

    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "Access-Control-Allow-Origin" not in other.headers


def test_swagger_ui_assets_are_served_locally(client: ApiClient) -> None:
    bundle = client.get("/docs/static/swagger-ui-bundle.js")
    missing = client.get("/docs/static/no-such-file.js")
    escape = client.get("/docs/static/../../pyproject.toml")

    assert bundle.status_code == 200
    assert "javascript" in bundle.headers["Content-Type"]
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    assert escape.status_code == 404


def test_openapi_documents_errors_in_the_shapes_sent(client: ApiClient) -> None:
    spec = client.get("/openapi.json").json()

    assert spec["openapi"] == "3.1.0"
    create = spec["paths"]["/api/v1/items"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemCreate"
    }
    unprocessable = create["responses"]["422"]["content"]["application/json"]["schema"]
    assert unprocessable == {"$ref": "#/components/schemas/HTTPValidationError"}
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    limited = token["responses"]["429"]
    assert limited["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/HTTPError"
    }
    assert "Retry-After" in limited["headers"]
    [item_id] = spec["paths"]["/api/v1/items/{item_id}"]["parameters"]
    assert item_id["name"] == "item_id"
    assert item_id["schema"] == {"type": "integer"}


def test_apps_are_independent(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert app.config["SETTINGS"].environment == "testing"
