"""Redis unreachable under a running server (REDIS_URL names a port nothing listens on): plain
HTTP keeps being served, the WebSocket fan-out degrades to this process's clients, what needs
Redis (the login limit, readiness) says so with a 503, never a 500 or a hang."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.contract.conftest import FUZZ_RATE_LIMIT, Database, Project, Server, served
from tests.contract.helpers import admin_login
from tests.helpers import free_port

pytestmark = pytest.mark.contract

WITHIN = 5.0


@pytest.fixture(scope="module")
def redisless_server(project: Project, database: Database) -> Iterator[Server]:
    with served(
        project,
        database,
        "redis_down",
        rate_limit=FUZZ_RATE_LIMIT,
        extra_env={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"},
    ) as server:
        yield server


def test_plain_http_keeps_answering_and_what_needs_redis_is_a_503(
    redisless_server: Server,
) -> None:
    server = redisless_server
    client = server.client()
    timings: dict[str, float] = {}
    checks: tuple[tuple[str, Callable[[], httpx.Response], int], ...] = (
        ("GET /health/live", lambda: client.get("/health/live"), 200),
        ("GET /health", lambda: client.get("/health"), 200),
        ("GET /api/v1/items", lambda: client.get("/api/v1/items"), 200),
        ("GET /health/ready", lambda: client.get("/health/ready"), 503),
        (
            "POST /api/v1/auth/token",
            lambda: client.post(
                "/api/v1/auth/token",
                data={"username": server.user.email, "password": server.user.password},
            ),
            503,
        ),
    )
    for name, call, expected in checks:
        started = time.monotonic()
        response = call()
        timings[name] = time.monotonic() - started
        assert response.status_code == expected, f"[{server.framework}] {name}: {response.text}"
        assert timings[name] < WITHIN, f"[{server.framework}] {name}: {timings[name]:.1f} s"
    ready = client.get("/health/ready").json()
    assert ready == {"status": "error", "database": "ok", "redis": "error"}
    print(
        f"[{server.framework}] Redis down: "
        + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
    )


def test_the_admin_login_is_a_503_too(redisless_server: Server) -> None:
    """The admin login counts against the same limit, in the same Redis."""
    started = time.monotonic()
    _, response = admin_login(redisless_server, redisless_server.superuser)
    took = time.monotonic() - started

    assert response.status_code == 503, f"[{redisless_server.framework}] {response.text[:300]}"
    assert took < WITHIN, f"[{redisless_server.framework}] admin login: {took:.1f} s"
