"""The pool's check of a PostgreSQL connection before use (the other tests may run on SQLite)."""

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import exc

from example.db import discard_closed_connection


class FakeConnection:
    """What the check reads of a psycopg connection: its socket and whether it is closed."""

    def __init__(self, sock: socket.socket, *, closed: bool = False) -> None:
        self._sock = sock
        self.closed = closed

    def fileno(self) -> int:
        return self._sock.fileno()


@pytest.fixture
def sockets() -> Iterator[tuple[socket.socket, socket.socket]]:
    """The pool's end of a connection, and the server's."""
    ours, server = socket.socketpair()
    with ours, server:
        yield ours, server


def test_an_idle_connection_is_handed_out(sockets: tuple[socket.socket, socket.socket]) -> None:
    ours, _ = sockets
    discard_closed_connection(FakeConnection(ours), None, None)


def test_a_connection_the_server_closed_is_replaced(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    ours, server = sockets
    server.close()  # as a database restart does
    with pytest.raises(exc.DisconnectionError):
        discard_closed_connection(FakeConnection(ours), None, None)


def test_a_connection_closed_on_our_side_is_replaced(
    sockets: tuple[socket.socket, socket.socket],
) -> None:
    ours, _ = sockets
    with pytest.raises(exc.DisconnectionError):
        discard_closed_connection(FakeConnection(ours, closed=True), None, None)
