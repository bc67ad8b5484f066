import logging
import socket
from ipaddress import ip_network
from typing import Any

import pytest

from example.client_address import client_address
from example.ratelimit import LoginRateLimiter
from tests.common import DEFAULT_PASSWORD, ApiClient, MakeUser, auth_events


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
    with pytest.raises(ConnectionError, match="Redis does not answer"):
        limiter.admit_account("ada@example.com", "198.51.100.7", via="token")
    with pytest.raises(ConnectionError, match="Redis does not answer"):
        limiter.failed("ada@example.com", "198.51.100.7", via="token")


TOKEN_URL = "/api/v1/auth/token"
LIMITED = {"auth_rate_limit": "3/minute"}
# The tests' client connects from 127.0.0.1: here, a trusted reverse proxy.
BEHIND_A_PROXY = {**LIMITED, "trusted_proxies": "127.0.0.1"}
WRONG = "wrong password"


def attempt(
    client: ApiClient,
    email: str = "ada@example.com",
    password: str = WRONG,
    forwarded_for: str | None = None,
) -> Any:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    form = {"username": email, "password": password}
    return client.post(TOKEN_URL, data=form, headers=headers)


def statuses(responses: list[Any]) -> list[int]:
    return [response.status_code for response in responses]


@pytest.mark.parametrize("settings_overrides", [LIMITED])
def test_a_spoofed_forwarded_for_from_an_untrusted_peer_does_not_change_the_bucket(
    client: ApiClient,
) -> None:
    spoofed = [
        attempt(client, f"user{n}@example.com", forwarded_for=f"10.0.0.{n}") for n in range(4)
    ]

    assert statuses(spoofed) == [401, 401, 401, 429]


@pytest.mark.parametrize("settings_overrides", [BEHIND_A_PROXY])
def test_a_trusted_proxys_forwarded_for_names_the_client(client: ApiClient) -> None:
    first = [attempt(client, f"user{n}@example.com", forwarded_for="10.0.0.1") for n in range(4)]

    assert statuses(first) == [401, 401, 401, 429]
    # The right-most entry that is not a trusted proxy: what the client sent before it is ignored.
    assert attempt(client, "a@example.com", forwarded_for="10.0.0.2, 10.0.0.1").status_code == 429
    assert attempt(client, "b@example.com", forwarded_for="10.0.0.1, 10.0.0.2").status_code == 401
    through_two_proxies = attempt(client, "c@example.com", forwarded_for="10.0.0.3, 127.0.0.1")
    assert through_two_proxies.status_code == 401


@pytest.mark.parametrize("settings_overrides", [BEHIND_A_PROXY])
def test_failed_logins_count_per_account_from_any_address(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("ada@example.com")
    make_user("bob@example.com")
    failures = [
        attempt(client, "ada@example.com", forwarded_for="10.0.0.1"),
        attempt(client, " Ada@Example.com", forwarded_for="10.0.0.2"),
        attempt(client, "ada@example.com", forwarded_for="10.0.0.3"),
    ]

    right_password = attempt(client, password=DEFAULT_PASSWORD, forwarded_for="10.0.0.4")

    assert statuses(failures) == [401, 401, 401]
    assert right_password.status_code == 429
    assert right_password.json() == {"detail": "Too many login attempts; try again later"}
    assert 1 <= int(right_password.headers["Retry-After"]) <= 60
    # Another account, from the same address: its own count.
    assert attempt(client, "bob@example.com", DEFAULT_PASSWORD, "10.0.0.4").status_code == 200


@pytest.mark.parametrize("settings_overrides", [BEHIND_A_PROXY])
def test_successful_logins_do_not_use_up_the_account(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("ada@example.com")

    logins = [
        attempt(client, password=DEFAULT_PASSWORD, forwarded_for=f"10.0.0.{n}") for n in range(5)
    ]

    assert statuses(logins) == [200] * 5


def test_logins_are_logged_with_the_account_and_the_client_address(
    client: ApiClient, make_user: MakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    make_user("ada@example.com")

    with caplog.at_level(logging.INFO):
        attempt(client, password="wrong password")
        attempt(client, password=DEFAULT_PASSWORD)

    events = auth_events(caplog)
    assert [(event["event"], event.get("reason")) for event in events] == [
        ("login_failed", "invalid_credentials"),
        ("login_succeeded", None),
    ]
    for event in events:
        assert (event["account"], event["client"], event["via"]) == (
            "ada@example.com",
            "127.0.0.1",
            "token",
        )
    logged = " ".join(str(record.msg) for record in caplog.records)
    assert "wrong password" not in logged
    assert DEFAULT_PASSWORD not in logged
    assert "access_token" not in logged


@pytest.mark.parametrize("settings_overrides", [LIMITED])
def test_refusals_over_the_limit_are_logged(
    client: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(3):
        attempt(client)
    caplog.clear()

    with caplog.at_level(logging.INFO):
        attempt(client)

    [event] = auth_events(caplog)
    assert (event["event"], event["reason"], event["client"]) == (
        "login_failed",
        "rate_limited",
        "127.0.0.1",
    )


PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32"), ip_network("127.0.0.1")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.7", ["198.51.100.1"], "203.0.113.7"),  # not a proxy: its header is ignored
        ("10.1.2.3", [], "10.1.2.3"),  # a proxy that forwarded nothing
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["192.0.2.66, 198.51.100.1"], "198.51.100.1"),  # the left one is the client's
        ("10.1.2.3", ["198.51.100.1, 10.9.9.9"], "198.51.100.1"),  # proxies are skipped
        ("10.1.2.3", ["192.0.2.66", "198.51.100.1, 10.9.9.9"], "198.51.100.1"),  # two headers
        ("10.1.2.3", ["10.5.5.5, 10.9.9.9"], "10.5.5.5"),  # all proxies: the left-most
        ("10.1.2.3", ["198.51.100.1:4321"], "198.51.100.1"),
        ("2001:db8::1", ["[2001:db9::5]:443"], "2001:db9::5"),
        ("127.0.0.1", ["not an address"], "not an address"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_client_address(peer: str | None, forwarded_for: list[str], expected: str) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("127.0.0.1", ["198.51.100.1"], []) == "127.0.0.1"
