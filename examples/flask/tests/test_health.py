import socket
import threading
from collections.abc import Iterator
from unittest.mock import patch

import pytest
from fakeredis import TcpFakeServer
from sqlalchemy.exc import OperationalError

from example.readiness import readiness, redis_answers
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


def test_liveness_answers_whatever_the_database_does(client: ApiClient) -> None:
    failure = OperationalError("SELECT 1", {}, Exception("connection refused"))
    with patch("example.api.health.check_database", side_effect=failure):
        response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_without_redis_checks_the_database_only(client: ApiClient) -> None:
    response = client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_readiness_is_503_when_the_database_is_down(client: ApiClient) -> None:
    failure = OperationalError("SELECT 1", {}, Exception("connection refused"))
    with patch("example.api.health.check_database", side_effect=failure):
        response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis that speaks the protocol over TCP (fakeredis's server), on a free port."""
    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    # A short poll interval: shutdown() waits for the current one (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    port = server.server_address[1]
    yield f"redis://127.0.0.1:{port}/0"
    server.shutdown()
    server.server_close()


def test_redis_answers_a_running_redis_and_not_a_closed_port(redis_url: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]

    assert redis_answers(redis_url) is True
    assert redis_answers(f"redis://127.0.0.1:{closed}/0", timeout=0.5) is False


def test_readiness_names_redis_only_when_it_is_configured_and_fails_on_any_error() -> None:
    assert readiness(database=True, redis=None) == ({"status": "ok", "database": "ok"}, 200)
    assert readiness(database=True, redis=True) == (
        {"status": "ok", "database": "ok", "redis": "ok"},
        200,
    )
    assert readiness(database=True, redis=False) == (
        {"status": "error", "database": "ok", "redis": "error"},
        503,
    )
    assert readiness(database=False, redis=True) == (
        {"status": "error", "database": "error", "redis": "ok"},
        503,
    )
