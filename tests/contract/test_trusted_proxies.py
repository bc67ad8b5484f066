"""TRUSTED_PROXIES under a running server: behind a trusted reverse proxy the login limit and
the authentication events use the client address the proxy forwarded (the right-most
X-Forwarded-For entry that is no trusted proxy), not the proxy's, nor what the client itself
put in the header. The production server (uvicorn, gunicorn) is started with the same setting.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.contract.conftest import (
    CONTRACT_RATE_LIMIT,
    RATE_LIMIT_ATTEMPTS,
    TOKEN_URL,
    Database,
    Project,
    Server,
    served,
)

pytestmark = pytest.mark.contract

# Every client of the tests connects from 127.x.y.z: the whole block is the "proxy".
PROXIES = "127.0.0.0/8"


@pytest.fixture(scope="module")
def proxied_server(project: Project, database: Database) -> Iterator[Server]:
    with served(
        project,
        database,
        "proxied",
        rate_limit=CONTRACT_RATE_LIMIT,
        extra_env={"TRUSTED_PROXIES": PROXIES},
    ) as server:
        yield server


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_budget(
    proxied_server: Server,
) -> None:
    server = proxied_server
    accounts = (f"nobody-{n}@example.com" for n in range(100))  # no account limit involved

    with server.client(fresh_address=True) as proxy:

        def attempt(client_address: str) -> int:
            # What the client sent itself (a spoofed entry), then what the proxy appended.
            forwarded = {"X-Forwarded-For": f"203.0.113.66, {client_address}"}
            form = {"username": next(accounts), "password": "wrong-password-1234"}
            return proxy.post(TOKEN_URL, data=form, headers=forwarded).status_code

        first = [attempt("198.51.100.7") for _ in range(RATE_LIMIT_ATTEMPTS)]
        over = attempt("198.51.100.7")
        other_client = attempt("198.51.100.8")

    assert first == [401] * RATE_LIMIT_ATTEMPTS
    assert over == 429
    assert other_client == 401, "another client behind the same proxy shares the budget"
    events = [
        json.loads(line)
        for line in server.output().splitlines()
        if line.startswith("{") and '"login_failed"' in line
    ]
    assert {event.get("client") for event in events} == {"198.51.100.7", "198.51.100.8"}, events
