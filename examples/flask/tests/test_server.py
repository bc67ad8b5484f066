import socket
import sys
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import pytest
from gunicorn.workers import gthread

from example import server
from example.api import ws


def test_run_server_starts_gunicorn_in_a_fresh_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr("os.execv", lambda path, args: calls.append((path, args)))

    server.run_server("192.0.2.10", 9000, 3)

    args = ["-m", "example.server", "192.0.2.10", "9000", "3"]
    assert calls == [(sys.executable, [sys.executable, *args])]


def test_main_configures_gunicorn_and_serves_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[server.GunicornApplication] = []
    monkeypatch.setattr(server.GunicornApplication, "run", lambda self: started.append(self))
    sentinel: Any = object()
    monkeypatch.setattr("example.app.create_app", lambda: sentinel)

    server.main(["192.0.2.10", "9000", "3"])

    [application] = started
    assert application.cfg.bind == ["192.0.2.10:9000"]
    assert application.cfg.workers == 3
    assert application.cfg.worker_class is server.ThreadWorker
    assert application.cfg.threads == server.HTTP_THREADS
    assert application.cfg.accesslog is None
    assert application.load() is sentinel


def test_the_worker_knows_the_websocket_route() -> None:
    assert server.WS_PATH == ws.PATH


class FakeConnection:
    def __init__(self, sock: socket.socket, *, initialized: bool = False) -> None:
        self.sock = sock
        self.initialized = initialized


Route = Callable[[bytes | None, bool], str]


@pytest.fixture
def route(monkeypatch: pytest.MonkeyPatch) -> Iterator[Route]:
    """Where the worker sends a connection that has sent `data` (None: nothing yet)."""
    routes: list[str] = []
    monkeypatch.setattr(gthread.ThreadWorker, "init_process", lambda self: None)
    monkeypatch.setattr(
        gthread.ThreadWorker, "enqueue_req", lambda self, conn: routes.append("http")
    )
    worker = server.ThreadWorker.__new__(server.ThreadWorker)
    worker.init_process()

    def finish_request(_conn: Any, done: futures.Future[Any]) -> None:
        routes.append("wait" if done.result() is gthread._DEFER else "websocket")

    worker.finish_request = finish_request
    worker.handle = lambda conn: False
    worker.method_queue = type("Queue", (), {"defer": staticmethod(lambda f, *a: f(*a))})()

    def route(data: bytes | None, initialized: bool) -> str:
        ours, client = socket.socketpair()
        with ours, client:
            if data is not None:
                client.sendall(data)
            worker.enqueue_req(FakeConnection(ours, initialized=initialized))
            worker.ws_pool.shutdown(wait=True)
            worker.ws_pool = futures.ThreadPoolExecutor(1)
        return routes.pop()

    yield route
    worker.ws_pool.shutdown(wait=True)


def test_websocket_connections_get_threads_of_their_own(route: Route) -> None:
    assert route(b"GET /api/v1/ws/items?token=abc HTTP/1.1\r\n", False) == "websocket"


def test_plain_requests_go_to_the_request_threads(route: Route) -> None:
    assert route(b"GET /api/v1/items HTTP/1.1\r\n", False) == "http"
    assert route(b"GET /api/v1/ws/items HTTP/1.1\r\n", True) == "http"  # kept alive


def test_a_connection_with_nothing_to_read_yet_waits_in_the_poller(route: Route) -> None:
    assert route(None, False) == "wait"
