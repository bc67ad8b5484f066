"""WS /api/v1/ws/items (API-CONTRACT.md) against both frameworks' production servers.

Each server runs two worker processes that share item events through Redis (REDIS_URL).
Clients are connected until both worker processes hold some of them (read from /proc:
which process owns each accepted connection), so an event written through one worker must
reach the clients of the other through Redis. The assertions never branch on the framework.
"""

from __future__ import annotations

import collections
import contextlib
import json
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection, connect

from tests.contract.conftest import (
    EVENT_WORKERS,
    EVENTS_RECEIVED,
    WS_MAX_CONNECTIONS,
    EventServer,
    Server,
)
from tests.contract.helpers import assert_item, assert_status, create_item

pytestmark = pytest.mark.contract

WS_PATH = "/api/v1/ws/items"
ITEMS = "/api/v1/items"
TRY_AGAIN_LATER = 1013
# Connections beyond WS_MAX_CONNECTIONS the capped-server test opens (each must be refused).
EXTRA_CLIENTS = 3
# A plain request answers within this while the WebSocket connections are at their cap.
HTTP_ANSWER_SECONDS = 2.0
MIN_CLIENTS = 5
# Enough for the kernel to hand some connections to each worker, by any fair measure.
MAX_CLIENTS = 40
MIN_CLIENTS_PER_WORKER = 2
RECEIVE_TIMEOUT = 10.0
# An idle connection shows nothing for this long when no event is due.
QUIET_SECONDS = 0.5


# --- clients -------------------------------------------------------------------------------


def ws_url(server: Server, query: str = "") -> str:
    return server.base_url.replace("http://", "ws://", 1) + WS_PATH + query


def open_client(stack: contextlib.ExitStack, server: Server, query: str = "") -> ClientConnection:
    """A connected client, closed when ``stack`` closes."""
    return stack.enter_context(
        connect(ws_url(server, query), open_timeout=RECEIVE_TIMEOUT, close_timeout=2)
    )


def next_event(server: Server, client: ClientConnection) -> Any:
    message = client.recv(timeout=RECEIVE_TIMEOUT)
    assert isinstance(message, str), message
    EVENTS_RECEIVED[server.framework] += 1
    return json.loads(message)


def assert_quiet(client: ClientConnection) -> None:
    """No message is waiting for the client."""
    with pytest.raises(TimeoutError):
        client.recv(timeout=QUIET_SECONDS)


def break_connection(client: ClientConnection) -> None:
    """Drop the TCP connection without a WebSocket close (a reset, as a crashed client)."""
    client.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.socket.close()


# --- which worker process holds a connection (Linux /proc) ---------------------------------


def _session_pids(session_id: int) -> list[int]:
    """Every process of the server's session: uv, the server, its workers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # The command name (field 2) may hold spaces; the fields after it do not.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session_id:
                pids.append(int(entry.name))
    return pids


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    return inodes


def _server_side_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the loopback connection from ``client_port``."""
    wanted = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == wanted:
            return fields[9]
    return None


def connection_owners(server: Server, clients: list[ClientConnection]) -> list[int | None]:
    """For each client, the pid of the server process that holds its connection."""
    server_port = int(server.base_url.rsplit(":", 1)[1])
    owners_by_inode = {
        inode: pid for pid in _session_pids(server.process.pid) for inode in _socket_inodes(pid)
    }
    owners: list[int | None] = []
    for client in clients:
        inode = _server_side_inode(server_port, client.socket.getsockname()[1])
        owners.append(owners_by_inode.get(inode) if inode else None)
    return owners


@pytest.fixture
def clients(event_server: EventServer) -> Iterator[list[ClientConnection]]:
    """At least MIN_CLIENTS anonymous clients, spread over both worker processes."""
    server = event_server.server
    opened: list[ClientConnection] = []
    with contextlib.ExitStack() as stack:
        while True:
            opened.append(open_client(stack, server))
            holders = collections.Counter(connection_owners(server, opened))
            spread = len([pid for pid, n in holders.items() if pid and n >= MIN_CLIENTS_PER_WORKER])
            if len(opened) >= MIN_CLIENTS and spread == EVENT_WORKERS:
                break
            assert len(opened) < MAX_CLIENTS, (
                f"[{server.framework}] {len(opened)} connections, held by {dict(holders)}: "
                f"not {MIN_CLIENTS_PER_WORKER} on each of {EVENT_WORKERS} worker processes"
            )
        yield opened


# --- the contract ----------------------------------------------------------------------


def test_both_workers_listen_on_the_redis_channel(event_server: EventServer) -> None:
    client = redis.Redis.from_url(event_server.redis_url)
    try:
        [(_, listeners)] = client.pubsub_numsub(event_server.channel)
    finally:
        client.close()

    assert listeners == EVENT_WORKERS


def test_every_client_on_every_worker_hears_of_each_change(
    event_server: EventServer, clients: list[ClientConnection]
) -> None:
    server = event_server.server
    with contextlib.ExitStack() as stack:
        # Tokens never go in URLs: the stream takes none, and a query string changes nothing.
        with_query = open_client(stack, server, "?token=not-a-jwt")
        everyone = [*clients, with_query]
        item = create_item(server, server.user, name="broadcast", description="to all")
        for client in everyone:
            assert next_event(server, client) == {"event": "created", "item": item}
        fetched = server.client().get(f"{ITEMS}/{item['id']}")
        assert_status(fetched, 200)
        assert fetched.json() == item

        patched = server.client().patch(
            f"{ITEMS}/{item['id']}", json={"price": 1.25}, headers=server.auth(server.user)
        )
        assert_status(patched, 200)
        updated = assert_item(patched.json())
        for client in everyone:
            assert next_event(server, client) == {"event": "updated", "item": updated}

        deleted = server.client().delete(f"{ITEMS}/{item['id']}", headers=server.auth(server.user))
        assert_status(deleted, 204)
        for client in everyone:
            assert next_event(server, client) == {"event": "deleted", "item": {"id": item["id"]}}
        # One event per change, no more.
        for client in everyone:
            assert_quiet(client)


def test_a_client_that_closes_or_breaks_does_not_disturb_the_others(
    event_server: EventServer, clients: list[ClientConnection]
) -> None:
    server = event_server.server
    closing, breaking, *staying = clients

    first = create_item(server, server.user, name="before")
    for client in clients:
        assert next_event(server, client) == {"event": "created", "item": first}
    closing.close()
    break_connection(breaking)
    second = create_item(server, server.user, name="after")
    third = create_item(server, server.user, name="and after")

    for client in staying:
        assert next_event(server, client) == {"event": "created", "item": second}
        assert next_event(server, client) == {"event": "created", "item": third}
    assert "Traceback" not in server.output(), server.output()[-3000:]


def test_beyond_ws_max_connections_a_client_is_closed_with_1013_and_http_still_answers(
    capped_server: Server,
) -> None:
    server = capped_server
    with contextlib.ExitStack() as stack:
        admitted = [open_client(stack, server) for _ in range(WS_MAX_CONNECTIONS)]
        for _ in range(EXTRA_CLIENTS):
            refused = open_client(stack, server)
            with pytest.raises(ConnectionClosedError) as closed:
                refused.recv(timeout=RECEIVE_TIMEOUT)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == TRY_AGAIN_LATER

        started = time.monotonic()
        health = server.client().get("/health")
        assert_status(health, 200)
        assert time.monotonic() - started < HTTP_ANSWER_SECONDS
        item = create_item(server, server.user, name="at the cap")
        for client in admitted:
            assert next_event(server, client) == {"event": "created", "item": item}

        # A place that frees up is taken again.
        admitted.pop().close()
        deadline = time.monotonic() + RECEIVE_TIMEOUT
        while True:
            again = open_client(stack, server)
            try:
                again.recv(timeout=QUIET_SECONDS)
            except TimeoutError:
                break  # open and quiet: admitted
            except ConnectionClosedError:  # the server has not seen the close yet
                assert time.monotonic() < deadline, "the freed place was never taken again"
        later = create_item(server, server.user, name="after a place freed up")
        for client in [*admitted, again]:
            assert next_event(server, client) == {"event": "created", "item": later}
