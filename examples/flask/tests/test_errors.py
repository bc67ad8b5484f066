"""Flask-specific error handling: every error is JSON, in the FastAPI flavor's shapes."""

import io
from collections.abc import Callable

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from example.errors import validation_details
from tests.common import DATABASE_ERRORS, ApiClient

ITEMS = "/api/v1/items"


def test_webargs_messages_become_fastapi_error_lists() -> None:
    messages = {
        "json": {
            "name": ["Missing data for required field."],
            "tags": {0: ["Not a valid string."]},
        },
        "query": {"limit": ["Must be greater than or equal to 1 and less than or equal to 100."]},
        "form": {"_schema": ["Invalid input type."]},
    }

    assert validation_details(messages) == [
        {"loc": ["body", "name"], "msg": "Missing data for required field.", "type": "missing"},
        {"loc": ["body", "tags", 0], "msg": "Not a valid string.", "type": "string_type"},
        {
            "loc": ["query", "limit"],
            "msg": "Must be greater than or equal to 1 and less than or equal to 100.",
            "type": "value_error",
        },
        {"loc": ["body"], "msg": "Invalid input type.", "type": "model_attributes_type"},
    ]


@pytest.mark.parametrize(
    ("content", "content_type", "error_type"),
    [
        (b"", "application/json", "missing"),
        (b"{", "application/json", "json_invalid"),
        (b"\xff\xfe{", "application/json", "json_invalid"),
        (b'{"name": "Widget", "price": 1}', "text/plain", "model_attributes_type"),
        (b'["Widget", 1]', "application/json", "model_attributes_type"),
        (b"[" * 100_000, "application/json", "json_invalid"),
    ],
    ids=["empty", "malformed", "not-utf8", "not-json", "not-an-object", "too-deep"],
)
def test_bad_bodies_are_422_on_the_body(
    client: ApiClient,
    user_headers: dict[str, str],
    content: bytes,
    content_type: str,
    error_type: str,
) -> None:
    headers = {**user_headers, "Content-Type": content_type}

    response = client.post(ITEMS, content=content, headers=headers)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"]
    assert error["type"] == error_type


@pytest.mark.parametrize("price", ["NaN", "Infinity", "-Infinity"])
def test_prices_must_be_finite(client: ApiClient, user_headers: dict[str, str], price: str) -> None:
    body = b'{"name": "Widget", "price": ' + price.encode() + b"}"
    headers = {**user_headers, "Content-Type": "application/json"}

    response = client.post(ITEMS, content=body, headers=headers)

    assert response.status_code == 422
    assert ["body", "price"] in [error["loc"] for error in response.json()["detail"]]


def test_large_bodies_are_refused_on_every_route_before_anything_else(client: ApiClient) -> None:
    big = b"x" * (1024 * 1024 + 1)

    for url in ("/api/v1/users/me", "/no/such/route"):
        response = client.post(url, content=big, headers={"Content-Type": "text/plain"})
        assert response.status_code == 413
        assert response.json() == {"detail": "Request body too large"}


@pytest.mark.parametrize(("size", "status"), [(1024 * 1024, 422), (1024 * 1024 + 1, 413)])
def test_chunked_bodies_are_measured_too(
    app: Flask, user_headers: dict[str, str], size: int, status: int
) -> None:
    # gunicorn hands chunked bodies over with no length and wsgi.input_terminated set.
    response = app.test_client().post(
        ITEMS,
        input_stream=io.BytesIO(b"x" * size),
        headers={**user_headers, "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"},
    )

    assert response.status_code == status


def test_method_not_allowed_keeps_the_allow_header(client: ApiClient) -> None:
    response = client.delete(ITEMS)

    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


@DATABASE_ERRORS
def test_an_unreachable_database_is_a_503(
    fail_with: Callable[..., TestResponse], error: Exception, status: int
) -> None:
    response = fail_with(error)

    assert response.status_code == status
    detail = "Service unavailable" if status == 503 else "Internal Server Error"
    assert response.get_json() == {"detail": detail}
    assert len(response.headers.getlist("X-Request-ID")) == 1


def test_unhandled_exceptions_are_a_json_500(fail_with: Callable[..., TestResponse]) -> None:
    response = fail_with(RuntimeError("boom"))

    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal Server Error"}
    assert response.headers["X-Request-ID"]
