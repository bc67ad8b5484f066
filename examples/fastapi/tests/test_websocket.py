"""WS /api/v1/ws/items through the app: every client hears of every item change."""

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from example.api.ws import Subscription, get_hub
from example.app import create_app
from example.settings import Settings
from tests.common import ApiClient

WS = "/api/v1/ws/items"
ITEMS = "/api/v1/items"
TRY_AGAIN_LATER = 1013
# Generous: only a broken fan-out ever waits this long.
TIMEOUT_SECONDS = 10.0


class Socket:
    """A WebSocket client of the app (Starlette's TestClient session)."""

    def __init__(self, session: WebSocketTestSession) -> None:
        self._session = session

    def send(self, text: str) -> None:
        self._session.send_text(text)

    def next_event(self) -> Any:
        return self._session.receive_json()

    def close_code(self) -> int:
        """Wait for the server to close the connection; the close code it gave."""
        try:
            message = self._session.receive_json()
        except WebSocketDisconnect as closed:
            return closed.code
        raise AssertionError(f"the server sent {message!r} instead of closing")

    def close(self) -> None:
        self._session.close()


Connect = Callable[[str], Socket]


@pytest.fixture
def app(settings: Settings, engine: Engine, apps: dict[str, FastAPI]) -> FastAPI:
    """The WebSocket tests' own app (one per settings): TestClient runs it on an event loop
    of its own, and the database connections of the app the other tests share belong to
    theirs."""
    key = f"websocket {settings.model_dump_json()}"
    if key not in apps:
        apps[key] = create_app(settings)
    return apps[key]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """Starlette's TestClient here: the WebSocket tests need its websocket_connect."""
    with TestClient(app) as client:
        yield client


@pytest.fixture
def connect(app: FastAPI, client: TestClient) -> Iterator[Connect]:
    with contextlib.ExitStack() as sessions:

        def open_socket(query: str = "") -> Socket:
            return Socket(sessions.enter_context(client.websocket_connect(WS + query)))

        yield open_socket
    # Every connection ended with its session: none is left subscribed.
    assert get_hub(app).subscriber_count == 0


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"still not true after {TIMEOUT_SECONDS} s"
        time.sleep(0.01)


def test_every_client_hears_of_each_create_update_and_delete(
    connect: Connect, client: ApiClient, user_headers: dict[str, str]
) -> None:
    sockets = [connect(""), connect(""), connect("")]

    created = client.post(ITEMS, json={"name": "Lamp", "price": 12.5}, headers=user_headers)
    assert created.status_code == 201
    item_id = created.json()["id"]
    for socket in sockets:
        assert socket.next_event() == {"event": "created", "item": created.json()}

    updated = client.patch(f"{ITEMS}/{item_id}", json={"price": 10}, headers=user_headers)
    assert updated.status_code == 200
    for socket in sockets:
        assert socket.next_event() == {"event": "updated", "item": updated.json()}

    deleted = client.delete(f"{ITEMS}/{item_id}", headers=user_headers)
    assert deleted.status_code == 204
    for socket in sockets:
        assert socket.next_event() == {"event": "deleted", "item": {"id": item_id}}


def test_a_refused_write_sends_no_event(
    connect: Connect, client: ApiClient, user_headers: dict[str, str]
) -> None:
    socket = connect("")

    invalid = client.post(ITEMS, json={"name": "", "price": 1}, headers=user_headers)
    anonymous = client.post(ITEMS, json={"name": "Lamp", "price": 1})
    created = client.post(ITEMS, json={"name": "Lamp", "price": 1}, headers=user_headers)

    assert (invalid.status_code, anonymous.status_code, created.status_code) == (422, 401, 201)
    # The first event is the one successful write's.
    assert socket.next_event() == {"event": "created", "item": created.json()}


def test_a_client_that_leaves_does_not_disturb_the_others(
    app: Any, connect: Connect, client: ApiClient, user_headers: dict[str, str]
) -> None:
    leaving, staying = connect(""), connect("")
    assert get_hub(app).subscriber_count == 2

    leaving.close()
    wait_for(lambda: get_hub(app).subscriber_count == 1)
    created = client.post(ITEMS, json={"name": "Lamp", "price": 1}, headers=user_headers)

    assert staying.next_event() == {"event": "created", "item": created.json()}


def test_the_stream_takes_no_token_and_a_query_string_changes_nothing(
    connect: Connect, client: ApiClient, user_headers: dict[str, str]
) -> None:
    # Tokens never go in URLs (servers and proxies log them): there is no `token` parameter.
    socket = connect("?token=not-a-jwt")

    created = client.post(ITEMS, json={"name": "Lamp", "price": 1}, headers=user_headers)

    assert socket.next_event() == {"event": "created", "item": created.json()}


@pytest.mark.parametrize("settings_overrides", [{"ws_max_connections": 2}])
def test_beyond_ws_max_connections_a_client_is_closed_with_1013(
    app: Any, connect: Connect, client: ApiClient, user_headers: dict[str, str]
) -> None:
    first, second = connect(""), connect("")

    refused = connect("")

    assert refused.close_code() == TRY_AGAIN_LATER
    assert client.get("/health").status_code == 200
    # A place that frees up is taken again, and the clients let in hear every change.
    first.close()
    wait_for(lambda: get_hub(app).subscriber_count == 1)
    third = connect("")
    created = client.post(ITEMS, json={"name": "Lamp", "price": 1}, headers=user_headers)
    assert second.next_event() == third.next_event() == {"event": "created", "item": created.json()}
    assert get_hub(app).subscriber_count == 2


def test_what_a_client_sends_is_ignored(
    connect: Connect, client: ApiClient, user_headers: dict[str, str]
) -> None:
    socket = connect("")

    socket.send("hello?")
    created = client.post(ITEMS, json={"name": "Lamp", "price": 1}, headers=user_headers)

    assert socket.next_event() == {"event": "created", "item": created.json()}


def test_a_subscription_too_far_behind_ends_after_its_pending_events() -> None:
    async def fill_and_drain() -> tuple[list[bool], list[str | None], bool]:
        subscription = Subscription(asyncio.get_running_loop(), maxsize=2)
        offered = [subscription.offer(f"event {n}") for n in range(3)]
        await asyncio.sleep(0)  # the queued puts run on the loop
        drained = [await subscription.get() for _ in range(3)]
        return offered, drained, subscription.offer("one more")

    offered, drained, later = asyncio.run(fill_and_drain())

    # The overflow is found on the loop, after offer() returned: the end marker follows.
    assert offered == [True, True, True]
    assert drained == ["event 0", "event 1", None]
    assert later is False
