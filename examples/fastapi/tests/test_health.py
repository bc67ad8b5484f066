from unittest.mock import patch

from sqlalchemy.exc import OperationalError

from tests.common import ApiClient


def test_health_reports_ok_when_the_database_answers(client: ApiClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_reports_503_when_the_database_is_down(client: ApiClient) -> None:
    failure = OperationalError("SELECT 1", {}, Exception("connection refused"))
    with patch("example.api.health.check_database", side_effect=failure):
        response = client.get("/health")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


def test_every_response_carries_a_request_id(client: ApiClient) -> None:
    generated = client.get("/health")
    echoed = client.get("/health", headers={"X-Request-ID": "abc-123"})

    assert generated.headers["X-Request-ID"]
    assert echoed.headers["X-Request-ID"] == "abc-123"
