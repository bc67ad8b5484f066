"""SIGTERM, as an orchestrator sends it: the request in flight gets its answer, then the
server exits 0 within 30 s (PRODUCT.md, "Production, and beyond one machine")."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.contract.conftest import FUZZ_RATE_LIMIT, Database, Project, start_server

pytestmark = pytest.mark.contract

GRACE_SECONDS = 30.0


def test_sigterm_lets_the_request_in_flight_finish_and_exits_0(
    project: Project, database: Database
) -> None:
    copy = database.copy("shutdown")
    server = start_server(project, copy, rate_limit=FUZZ_RATE_LIMIT, name="shutdown")
    try:
        headers = {**server.auth(server.user), "Content-Type": "application/json"}
        first_half_sent = threading.Event()
        signalled = threading.Event()

        def slow_body() -> Iterator[bytes]:
            # The request is in flight (headers and half its body received) when SIGTERM comes.
            yield b'{"name": "sent across a shutdown", '
            first_half_sent.set()
            signalled.wait(10)
            time.sleep(0.5)  # the server has had the signal for a while
            yield b'"price": 1.5}'

        outcome: dict[str, httpx.Response | BaseException] = {}

        def post() -> None:
            try:
                with httpx.Client(base_url=server.base_url, timeout=GRACE_SECONDS) as client:
                    outcome["response"] = client.post(
                        "/api/v1/items", content=slow_body(), headers=headers
                    )
            except BaseException as exc:  # reported below, in the test's thread
                outcome["error"] = exc

        poster = threading.Thread(target=post)
        poster.start()
        assert first_half_sent.wait(10), "the request never started"
        time.sleep(0.3)  # the first half has reached the server
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)  # `uv run`, which hands it to the server
        signalled.set()
        poster.join(GRACE_SECONDS)

        assert "error" not in outcome, f"[{server.framework}] {outcome.get('error')!r}"
        response = outcome["response"]
        assert isinstance(response, httpx.Response)
        assert response.status_code == 201, f"[{server.framework}] {response.text}"
        assert response.json()["name"] == "sent across a shutdown"
        code = server.process.wait(GRACE_SECONDS)
        assert code == 0, f"[{server.framework}] exit {code}\n{server.output()[-3000:]}"
        assert time.monotonic() - started < GRACE_SECONDS
    finally:
        server.stop()
        copy.drop()
