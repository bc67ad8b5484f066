"""FastAPI-specific error handling: every error is JSON, in the contract's shapes."""

from collections.abc import Callable, Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import BaseModel, field_validator

from tests.common import DATABASE_ERRORS, ApiClient


def test_unhandled_errors_are_a_json_500_with_the_request_id(
    fail_with: Callable[..., Response],
) -> None:
    response = fail_with(RuntimeError("boom"), headers={"X-Request-ID": "req-500"})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}
    assert response.headers["X-Request-ID"] == "req-500"
    assert "boom" not in response.text


@DATABASE_ERRORS
def test_an_unreachable_database_is_a_503(
    fail_with: Callable[..., Response], error: Exception, status: int
) -> None:
    response = fail_with(error)

    assert response.status_code == status
    detail = "Service unavailable" if status == 503 else "Internal Server Error"
    assert response.json() == {"detail": detail}
    assert len(response.headers.get_list("X-Request-ID")) == 1


def test_validation_errors_keep_only_loc_msg_and_type(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/items", json={"name": "Widget", "price": "NaN"}, headers=user_headers
    )

    assert response.status_code == 422
    assert [set(error) for error in response.json()["detail"]] == [{"loc", "msg", "type"}]


class Odd(BaseModel):
    number: int

    @field_validator("number")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("must be odd")  # lands in the error's ctx as an exception object
        return value


def test_validation_errors_with_exception_context_still_serialise(fresh_app: FastAPI) -> None:
    async def echo(body: Odd) -> Odd:
        return body

    fresh_app.add_api_route("/odd", echo, methods=["POST"])
    with TestClient(fresh_app) as client:
        response = client.post("/odd", json={"number": 2})

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "number"], "msg": "Value error, must be odd", "type": "value_error"}
        ]
    }


def test_large_declared_body_is_refused_before_routing(client: ApiClient) -> None:
    response = client.post("/nowhere", content=b"x" * (1024 * 1024 + 1))

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert response.headers["X-Request-ID"]


def test_large_chunked_body_is_refused_while_it_is_read(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Widget", "price": 1, "description": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    headers = {**user_headers, "Content-Type": "application/json"}
    response = client.post("/api/v1/items", content=chunks(), headers=headers)

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
