"""WS /api/v1/ws/items through the app: every client hears of every item change."""

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from websockets.sync import client as websocket_client
from werkzeug.serving import make_server

from example.api.ws import Subscription, get_hub
from tests.common import ApiClient

WS = "/api/v1/ws/items"
ITEMS = "/api/v1/items"
TRY_AGAIN_LATER = 1013
# Generous: only a broken fan-out ever waits this long.
TIMEOUT_SECONDS = 10.0
# The close frame has arrived by then; the development server only lingers on the socket.
CLOSE_TIMEOUT_SECONDS = 0.02


class Socket:
    """A WebSocket client (the `websockets` library) of the app served by a real server
    thread: Flask's test client cannot speak WebSocket."""

    def __init__(self, ws: websocket_client.ClientConnection) -> None:
        self._ws = ws

    def send(self, text: str) -> None:
        self._ws.send(text)

    def next_event(self) -> Any:
        return json.loads(self._ws.recv(timeout=TIMEOUT_SECONDS))

    def close_code(self) -> int:
        """Wait for the server's close frame; the close code it gave.

        Read from the protocol state rather than by recv(): Werkzeug's development server
        keeps the TCP connection open after the closing handshake (gunicorn closes it), and
        recv() would wait for that.
        """
        wait_for(lambda: self._ws.protocol.close_rcvd is not None)
        close_frame = self._ws.protocol.close_rcvd
        assert close_frame is not None
        return close_frame.code

    def close(self) -> None:
        self._ws.close()


Connect = Callable[[str], Socket]


@pytest.fixture
def connect(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    monkeypatch.setitem(app.config, "WS_POLL_SECONDS", 0.01)  # a closed client is noticed sooner
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for the serving loop's next poll.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    url = f"ws://127.0.0.1:{server.server_port}{WS}"
    try:
        with contextlib.ExitStack() as connections:

            def open_socket(query: str = "") -> Socket:
                # Werkzeug's development server keeps the TCP connection open after the
                # closing handshake (see Socket.close_code): do not wait long for it.
                ws = websocket_client.connect(url + query, close_timeout=CLOSE_TIMEOUT_SECONDS)
                return Socket(connections.enter_context(ws))

            yield open_socket
        # Each connection's server thread notices its client left and unsubscribes.
        wait_for(lambda: get_hub(app).subscriber_count == 0)
    finally:
        server.shutdown()
        thread.join()


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


def test_a_subscription_too_far_behind_is_dropped_after_its_pending_events() -> None:
    subscription = Subscription(maxsize=2)

    offered = [subscription.offer(f"event {n}") for n in range(3)]

    assert offered == [True, True, False]
    assert subscription.dropped
    assert [subscription.get(0), subscription.get(0), subscription.get(0)] == [
        "event 0",
        "event 1",
        None,
    ]
