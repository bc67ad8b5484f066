import socket

import pytest

from example.ratelimit import LoginRateLimiter
from tests.common import ApiClient, MakeUser


def test_limiter_allows_the_rate_then_refuses() -> None:
    limiter = LoginRateLimiter("3/minute")

    assert [limiter.hit("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("10.0.0.2")
    assert 1 <= limiter.retry_after("10.0.0.1") <= 60


@pytest.mark.parametrize("settings_overrides", [{"auth_rate_limit": "3/minute"}])
def test_login_is_rate_limited_per_client(client: ApiClient, make_user: MakeUser) -> None:
    make_user("ada@example.com")
    attempt = {"username": "ada@example.com", "password": "wrong password"}

    statuses = [client.post("/api/v1/auth/token", data=attempt).status_code for _ in range(4)]
    limited = client.post("/api/v1/auth/token", data=attempt)

    assert statuses == [401, 401, 401, 429]
    assert limited.status_code == 429
    assert limited.json() == {"detail": "Too many login attempts; try again later"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_a_redis_that_does_not_answer_is_a_connection_error_for_the_503() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    limiter = LoginRateLimiter("3/minute", f"redis://127.0.0.1:{closed}/0")

    with pytest.raises(ConnectionError, match="Redis does not answer"):
        limiter.hit("198.51.100.7")
