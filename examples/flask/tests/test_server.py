import contextlib
import importlib
import json
import logging
import socket
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import simple_websocket
from flask import Flask
from gunicorn import util as gunicorn_util
from gunicorn.config import Config
from gunicorn.glogging import Logger
from websockets.exceptions import ConnectionClosedError
from websockets.sync import client as websocket_client

from example import server
from example.api import ws
from example.logging_config import configure_logging
from example.settings import get_settings
from tests.common import ServedApp

TRY_AGAIN_LATER = 1013
TIMEOUT_SECONDS = 10.0


def serve(
    monkeypatch: pytest.MonkeyPatch, host: str = "127.0.0.1", workers: int = 1, **environ: str
) -> tuple[list[str], server.GunicornApplication]:
    """`serve` up to gunicorn's start, with these environment variables: the command line
    run_server gives the fresh interpreter (instead of exec'ing it), and gunicorn as main
    configures it from that command line (instead of running it)."""
    calls: list[tuple[str, list[str]]] = []
    monkeypatch.setattr("os.execv", lambda path, args: calls.append((path, args)))
    started: list[server.GunicornApplication] = []
    monkeypatch.setattr(server.GunicornApplication, "run", lambda self: started.append(self))
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        server.run_server(host, 9000, workers)
    finally:
        get_settings.cache_clear()
    [(path, args)] = calls
    assert path == args[0] == sys.executable
    server.main(args[3:])
    [application] = started
    return args, application


def test_run_server_starts_gunicorn_in_a_fresh_interpreter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args, _ = serve(
        monkeypatch, "192.0.2.10", 3, DATABASE_URL="postgresql://app@127.0.0.1:5432/app"
    )

    # No TRUSTED_PROXIES: gunicorn believes no one's forwarded headers. A database on this
    # machine: one request thread.
    options = ["192.0.2.10", "9000", "3", "", "INFO", "1"]
    assert args == [sys.executable, "-m", "example.server", *options]


@pytest.mark.parametrize(
    ("database_url", "threads"),
    [
        ("sqlite:///./app.db", 1),
        ("sqlite:////data/app.db", 1),
        ("postgresql://app@localhost/app", 1),
        ("postgresql://app:secret@127.0.0.1:5432/app", 1),
        ("postgresql://app@[::1]:5432/app", 1),
        ("postgresql:///app", 1),  # libpq's Unix socket
        ("postgresql://app@/app?host=/var/run/postgresql", 1),
        ("postgresql://app@db:5432/app", 2),  # another container (Compose)
        ("postgresql://app:secret@db.example.com/app", 2),
        ("postgresql://app@10.0.0.5/app", 2),
        ("postgresql://app@/app?host=db.example.com", 2),
        ("postgresql://app@localhost,db.example.com/app", 2),
    ],
)
def test_a_database_on_another_host_gets_a_second_request_thread(
    database_url: str, threads: int
) -> None:
    assert server.http_threads(database_url) == threads


def test_serve_passes_the_request_threads_for_database_url_to_gunicorn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database_url = "postgresql://app:s3cret@db.example.com:5432/app"

    args, application = serve(monkeypatch, DATABASE_URL=database_url)

    assert application.cfg.threads == server.REMOTE_DATABASE_THREADS
    # The database's URL, password and all, stays out of the master's command line.
    assert not any("example.com" in arg or "s3cret" in arg for arg in args)


def test_main_configures_gunicorn_and_serves_the_app(
    monkeypatch: pytest.MonkeyPatch, served_app: ServedApp
) -> None:
    started: list[server.GunicornApplication] = []
    monkeypatch.setattr(server.GunicornApplication, "run", lambda self: started.append(self))

    server.main(["192.0.2.10", "9000", "3", "", "WARNING", "2"])

    [application] = started
    assert application.cfg.bind == ["192.0.2.10:9000"]
    assert application.cfg.workers == 3
    assert application.cfg.worker_class is server.ThreadWorker
    assert application.cfg.threads == 2
    assert application.cfg.accesslog is None
    assert application.cfg.logger_class is server.JsonLogger
    assert application.cfg.loglevel == "warning"
    # gunicorn's own default believes X-Forwarded-Proto from 127.0.0.1: not here.
    assert application.cfg.forwarded_allow_ips == []
    # No control socket in the user's home directory (gunicorn's default since 25).
    assert application.cfg.control_socket_disable is True
    assert application.load() is served_app.app
    # The garbage collector is tuned once the app is built (memory.py).
    assert served_app.steps == ["app", "tuned, young threshold None"]


def test_gunicorn_trusts_the_forwarded_headers_of_trusted_proxies_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, application = serve(monkeypatch, TRUSTED_PROXIES="10.0.0.5, 192.168.0.0/16")

    assert application.cfg.forwarded_allow_ips == ["10.0.0.5/32", "192.168.0.0/16"]


def test_gunicorn_writes_its_own_lines_as_json_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cfg = Config()
    cfg.set("loglevel", "info")

    server.JsonLogger(cfg).info("Listening at: %s", "http://127.0.0.1:8000")

    written = capsys.readouterr()
    line = json.loads(written.out)
    assert line["event"] == "Listening at: http://127.0.0.1:8000"
    assert (line["level"], line["logger"]) == ("info", "gunicorn.error")
    assert written.err == ""


@pytest.mark.usefixtures("root_logger_kept")
def test_gunicorn_lines_are_the_apps_json_lines_redacted_alike() -> None:
    """The master writes them without structlog (JsonLineFormatter): the same fields, in the
    same order, as logging_config's line for the same record, secrets redacted alike."""
    configure_logging("INFO")
    [handler] = logging.getLogger().handlers
    try:
        raise RuntimeError("password=s3cret")
    except RuntimeError:
        failure = sys.exc_info()
    url = "/api/v1/items?token=s3cret"
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, __file__, 1, "Error handling %s", (url,), failure
    )

    ours = json.loads(server.JsonLineFormatter().format(record))
    apps = json.loads(handler.format(record))

    # structlog stamps the time of formatting, the formatter the record's: a moment apart.
    written, stamped = (datetime.fromisoformat(line.pop("timestamp")) for line in (ours, apps))
    assert abs(written - stamped) < timedelta(seconds=1)
    assert list(ours.items()) == list(apps.items())
    assert ours["event"] == "Error handling /api/v1/items"
    assert "s3cret" not in ours["exception"]


def test_gunicorns_master_loads_no_structlog(monkeypatch: pytest.MonkeyPatch) -> None:
    """It writes a few lines of its own: structlog (and the asyncio it imports) would cost it
    ~2.7 MiB. Imported afresh here, as in the master (the run's modules are put back after)."""
    for name in list(sys.modules):
        if name.partition(".")[0] == "structlog" or name == server.__name__:
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys.modules["example"], "server", server)
    # The import hands gunicorn server.write_json_error again: the run's one is put back.
    monkeypatch.setattr(gunicorn_util, "write_error", gunicorn_util.write_error)

    importlib.import_module(server.__name__)

    assert "structlog" not in sys.modules


def test_the_worker_knows_the_websocket_route() -> None:
    assert server.WS_PATH == ws.PATH


class Recorder:
    """Stands in for the worker's WebSocket pool: records what it is handed."""

    def __init__(self) -> None:
        self.routes: list[str] = []

    def submit(self, *_args: Any) -> None:
        self.routes.append("websocket")


Route = Callable[[bytes | None], str]


@pytest.fixture
def route(monkeypatch: pytest.MonkeyPatch) -> Route:
    """Where the worker sends a connection whose client sends `data` (None: nothing)."""
    monkeypatch.setattr(server, "CLIENT_TIMEOUT_SECONDS", 0.05)
    worker = server.ThreadWorker.__new__(server.ThreadWorker)
    pool = Recorder()
    worker.ws_pool = pool  # type: ignore[assignment]
    worker.handle = lambda *_args: pool.routes.append("http")

    def route(data: bytes | None) -> str:
        ours, client = socket.socketpair()
        with ours, client:
            if data is not None:
                client.sendall(data)
            worker.route(ours, ours, None)  # the listener is only passed on
            return pool.routes.pop() if pool.routes else "dropped"

    return route


def test_websocket_connections_get_threads_of_their_own(route: Route) -> None:
    assert route(b"GET /api/v1/ws/items HTTP/1.1\r\n") == "websocket"


def test_plain_requests_are_served_by_the_thread_that_accepted_them(route: Route) -> None:
    assert route(b"GET /api/v1/items HTTP/1.1\r\n") == "http"
    assert route(b"GET / HTTP/1.1\r\n\r\n") == "http"  # shorter than the WebSocket path


def test_a_client_that_stays_silent_is_dropped(route: Route) -> None:
    assert route(None) == "dropped"
    assert route(b"GET /api/v1/w") == "dropped"  # the rest of the request line never comes


def test_a_request_line_that_arrives_in_pieces_is_routed_once_it_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours, client = socket.socketpair()
    with ours, client:
        client.sendall(b"GET /api/v1/w")
        later = threading.Timer(0.02, client.sendall, [b"s/items HTTP/1.1\r\n"])
        later.start()
        start = server._peek_request_line(ours)
        later.join()

        assert start == b"GET /api/v1/ws/items"
        assert ours.recv(100).startswith(b"GET /api/v1/ws/items HTTP/1.1")  # left unread


class Worker:
    """The worker process's threads, serving `app` on a port of their own: two request threads,
    as for a database on another host (one is the same with fewer)."""

    threads = server.REMOTE_DATABASE_THREADS

    def __init__(self, app: Flask) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        cfg = Config()
        cfg.set("threads", self.threads)
        self.worker = server.ThreadWorker(0, 0, [self.listener], None, 30, cfg, Logger(cfg))
        self.worker.wsgi = app
        self.worker.is_parent_alive = lambda: True
        self.thread = threading.Thread(target=self.worker.run, daemon=True)
        self.port = self.listener.getsockname()[1]

    def get(self, path: str) -> int:
        url = f"http://127.0.0.1:{self.port}{path}"
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return int(response.status)

    def stop(self) -> None:
        self.worker.alive = False
        # Each request thread waits in accept(): one connection each lets it see the end.
        for _ in range(self.threads):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self.thread.join(TIMEOUT_SECONDS)
        self.worker.ws_pool.shutdown(wait=False, cancel_futures=True)
        self.worker.tmp.close()  # the heartbeat file
        self.listener.close()


@pytest.fixture
def worker(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Worker]:
    monkeypatch.setattr(server, "HEARTBEAT_SECONDS", 0.01)
    monkeypatch.setitem(app.config, "WS_POLL_SECONDS", 0.01)  # a closed client is noticed sooner
    worker = Worker(app)
    worker.thread.start()
    yield worker
    worker.stop()


@pytest.mark.parametrize("settings_overrides", [{"ws_max_connections": 2}])
def test_plain_requests_are_answered_while_the_websockets_are_at_their_cap(
    worker: Worker,
) -> None:
    url = f"ws://127.0.0.1:{worker.port}{ws.PATH}"
    with contextlib.ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(websocket_client.connect(url, open_timeout=TIMEOUT_SECONDS))
        refused = stack.enter_context(websocket_client.connect(url, open_timeout=TIMEOUT_SECONDS))
        with pytest.raises(ConnectionClosedError) as closed:
            refused.recv(timeout=TIMEOUT_SECONDS)

        started = time.monotonic()
        statuses = [worker.get("/health") for _ in range(worker.threads * 2)]

    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == TRY_AGAIN_LATER
    assert statuses == [200] * worker.threads * 2
    assert time.monotonic() - started < TIMEOUT_SECONDS / 2


class ClosedWhileRegistered(socket.socket):
    """A WebSocket's socket that gunicorn closes just as simple_websocket's reader thread
    registers it: after the reader has looked its number up, before epoll_ctl."""

    def fileno(self) -> int:
        number = super().fileno()
        if "simple_websocket" in threading.current_thread().name:
            self.close()
        return number


# What a client's upgrade request puts in the WSGI environ (RFC 6455's sample key).
UPGRADE_HEADERS = {
    "HTTP_HOST": "localhost",
    "HTTP_UPGRADE": "websocket",
    "HTTP_CONNECTION": "Upgrade",
    "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ==",
    "HTTP_SEC_WEBSOCKET_VERSION": "13",
}


def test_a_websocket_closed_while_its_reader_registers_it_ends_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused connection (1013) is closed at once, maybe before simple_websocket's reader
    thread has registered its socket: the thread ends quietly (ws.ReaderSelector)."""
    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    ours, client = socket.socketpair()
    with client, ClosedWhileRegistered(fileno=ours.detach()) as served:
        environ = {**UPGRADE_HEADERS, "gunicorn.socket": served}
        connection = simple_websocket.Server(environ, **ws.SERVER_OPTIONS)
        connection.thread.join(TIMEOUT_SECONDS)

        assert client.recv(100).startswith(b"HTTP/1.1 101 ")  # the handshake went through
    assert not connection.thread.is_alive()
    assert failures == []
    assert not connection.connected


def test_a_request_gunicorn_cannot_read_is_answered_in_json_not_html() -> None:
    """gunicorn refuses e.g. a request line over 4094 bytes itself, before the app; its answer
    is the app's JSON error shape too (server.write_json_error replaces its HTML page)."""
    sender, receiver = socket.socketpair()
    with sender, receiver:
        gunicorn_util.write_error(sender, 414, "URI Too Long", "Request Line is too large")
        answer = receiver.recv(4096).decode("latin-1")

    head, body = answer.split("\r\n\r\n", 1)
    assert server.write_json_error is gunicorn_util.write_error
    assert head.startswith("HTTP/1.1 414 URI Too Long\r\n")
    assert "Content-Type: application/json" in head.split("\r\n")
    assert json.loads(body) == {"detail": "URI Too Long"}
