"""The production server: gunicorn, embedded, serving `create_app()`."""

import ipaddress
import json
import logging
import os
import socket
import sys
import threading
import time
from concurrent import futures
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger
from gunicorn.workers.sync import SyncWorker

from example.memory import tune_gc
from example.redaction import redact_event

if TYPE_CHECKING:
    from flask import Flask

# Threads of a worker process that serve plain requests, each one connection at a time as
# gunicorn's sync worker does (no keep-alive). They contend for the GIL: a second thread pays
# while the first waits on a round trip to the database's host, and otherwise costs CPU.
# Measured on `GET /api/v1/items/1` (one worker, PostgreSQL on the same machine): one thread
# answered ~1250 requests/s at ~745 us of CPU each, two ~1060 at ~970 us, four fewer still;
# with 0.9 ms round trips to the database (another host), 1 / 2 / 4 threads ~440 / ~790 / ~810.
# So one thread for a database on this machine (SQLite, a Unix socket, a loopback address),
# two for one on another host: `http_threads`. More requests at once come from more worker
# processes (`serve --workers`), which share no GIL.
LOCAL_DATABASE_THREADS = 1
REMOTE_DATABASE_THREADS = 2
# How long a client may stay silent (before its request line, or in the middle of a read or
# a write) before its connection is dropped: a silent client holds a request thread no longer.
CLIENT_TIMEOUT_SECONDS = 5.0
# How often the worker's main thread tells gunicorn's master it is alive.
HEARTBEAT_SECONDS = 1.0
WS_PATH = "/api/v1/ws/items"
_WS_REQUEST_LINE = f"GET {WS_PATH}".encode()


def http_threads(database_url: str) -> int:
    """How many request threads a worker runs for the database at `database_url`."""
    parts = urlsplit(database_url)
    # libpq reads the host from a `host` parameter too (a directory for a Unix socket), and
    # takes a comma-separated list of hosts; no host at all is its Unix socket (or SQLite).
    named = ",".join(parse_qs(parts.query).get("host", [])) or parts.hostname or ""
    hosts = [host.strip() for host in named.split(",")]
    if all(_on_this_machine(host) for host in hosts):
        return LOCAL_DATABASE_THREADS
    return REMOTE_DATABASE_THREADS


def _on_this_machine(host: str) -> bool:
    if host.lower() in ("", "localhost") or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: another machine, as far as we can tell
        return False


class ThreadWorker(SyncWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's sync worker, run by `threads` request threads, plus a thread per WebSocket.

    Each request thread accepts a connection, reads its request line ahead without consuming
    it (MSG_PEEK), and serves a plain request itself, with no hand-over between threads. A
    WebSocket connection is handed to a thread of its own, in a pool apart (sized for
    WS_MAX_CONNECTIONS, which api/ws.py enforces with close code 1013), so that the request
    threads keep answering however many WebSockets are open.
    """

    def run(self) -> None:
        # Room for the connections the app refuses (1013) besides those it holds.
        ws_threads = self.wsgi.config["SETTINGS"].ws_max_connections + self.cfg.threads
        self.ws_pool = futures.ThreadPoolExecutor(ws_threads, thread_name_prefix="websocket")
        self.busy = 0
        self.busy_lock = threading.Lock()
        for listener in self.sockets:
            listener.setblocking(True)  # the kernel wakes one waiting thread per connection
            for _ in range(self.cfg.threads):
                threading.Thread(target=self.serve, args=(listener,), daemon=True).start()
        while self.alive and self.is_parent_alive():
            self.notify()
            time.sleep(HEARTBEAT_SECONDS)
        # Stopping: let the requests being served finish (the WebSockets simply end).
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.05)

    def serve(self, listener: socket.socket) -> None:  # a request thread
        while self.alive:
            try:
                client, addr = listener.accept()
            except OSError:  # the client left before it was accepted, or we are stopping
                continue
            with self.busy_lock:
                self.busy += 1
            try:
                self.route(listener, client, addr)
            finally:
                with self.busy_lock:
                    self.busy -= 1

    def route(self, listener: socket.socket, client: socket.socket, addr: Any) -> None:
        client.settimeout(CLIENT_TIMEOUT_SECONDS)
        try:
            start = _peek_request_line(client)
        except OSError:  # silent for too long, or gone: nothing to answer
            client.close()
            return
        if start == _WS_REQUEST_LINE:
            client.settimeout(None)  # open for as long as the client stays
            self.ws_pool.submit(self.handle, listener, client, addr)
        else:
            self.handle(listener, client, addr)


def _peek_request_line(client: socket.socket) -> bytes:
    """The first bytes of the request, left unread, enough to tell a WebSocket request."""
    wanted = len(_WS_REQUEST_LINE)
    start = client.recv(wanted, socket.MSG_PEEK)
    # A request whose first bytes could still be the WebSocket path's: wait for the rest
    # (any complete request line that starts so is at least that long).
    deadline = time.monotonic() + CLIENT_TIMEOUT_SECONDS
    while start and len(start) < wanted and _WS_REQUEST_LINE.startswith(start):
        if time.monotonic() > deadline:
            raise TimeoutError("the request line never came")
        time.sleep(0.001)
        start = client.recv(wanted, socket.MSG_PEEK)
    return start


def write_json_error(client: socket.socket, status: int, reason: str, _message: str) -> None:
    """gunicorn's answer to a request it cannot read (a request line over its 4094 bytes, a
    malformed header...), which it writes itself, before the app: JSON with `detail`, as every
    other error, instead of its HTML page. The message, which may quote the request, stays in
    gunicorn's log."""
    body = json.dumps({"detail": reason}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    gunicorn_util.write_nonblock(client, head.encode("latin-1") + body)


# gunicorn's workers write those answers with util.write_error (Worker.handle_error).
gunicorn_util.write_error = write_json_error


class JsonLineFormatter(logging.Formatter):
    """A record as the app's JSON line (logging_config), from the standard library alone.

    For gunicorn's own lines (the master's start and stop, a worker's boot and exit, a
    request it could not read): the master writes them before any app exists, and loading
    structlog there to write a few lines would cost it ~2.7 MiB (structlog imports asyncio).
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "event": record.getMessage(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(redact_event(None, record.levelname, line))


class JsonLogger(Logger):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's logger, writing its lines as JSON on stdout, like every other log line
    (instead of its own text format on stderr)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)  # its handler for `errorlog`, "-": a stream
        handler = self._get_gunicorn_handler(self.error_log)
        handler.setStream(sys.stdout)
        handler.setFormatter(JsonLineFormatter())


class GunicornApplication(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn configured from arguments instead of its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> "Flask":
        # Called in each worker process, which builds its own app and engine. Imported here:
        # the master process only supervises the workers, and does not load the app.
        from example.app import create_app

        app = create_app()
        # gc's own young threshold: raising it, as the FastAPI flavor does, cost these threads
        # ~10 % more CPU per request (each thread holds one request's objects, not many).
        tune_gc()
        return app


def gunicorn_options(
    host: str,
    port: int,
    workers: int,
    trusted_proxies: str = "",
    log_level: str = "INFO",
    threads: int = LOCAL_DATABASE_THREADS,
) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gunicorn's own lines: JSON on stdout at LOG_LEVEL, as the app's.
        "logger_class": "example.server.JsonLogger",
        "loglevel": log_level.lower(),
        # Threads, as flask-sock documents for gunicorn: a WebSocket holds a thread.
        "worker_class": "example.server.ThreadWorker",
        "threads": threads,
        # The app writes its own JSON access log (middleware.py).
        "accesslog": None,
        # X-Forwarded-Proto and the like are believed from TRUSTED_PROXIES only (by default
        # from no one: gunicorn's own default trusts 127.0.0.1); the app finds the client
        # address from the same setting (client_address.py).
        "forwarded_allow_ips": trusted_proxies,
        # No control socket for gunicornc (gunicorn 25+ opens one by default, at
        # $HOME/.gunicorn/gunicorn.ctl): two servers of one user would share its path, and an
        # image's unprivileged user may not write there. `serve` is stopped by its signals.
        "control_socket_disable": True,
    }


def run_server(host: str, port: int, workers: int) -> None:
    """Become gunicorn's master process, in a fresh interpreter.

    The command line has loaded Typer, and maybe more, that the master never uses; starting
    afresh (the same process, so signals and the process id stay) keeps it small.
    """
    from example.metrics import prepare_multiprocess_directory
    from example.settings import get_settings

    settings = get_settings()
    if settings.metrics_enabled:  # the workers inherit the directory in the environment
        prepare_multiprocess_directory()
    # TRUSTED_PROXIES as gunicorn's forwarded_allow_ips, LOG_LEVEL as its loglevel, and the
    # request threads that suit DATABASE_URL: the master does not load the settings (nor is
    # the database's URL, which may hold its password, shown in its command line).
    proxies = ",".join(str(network) for network in settings.trusted_proxies)
    args = [
        sys.executable,
        "-m",
        "example.server",
        host,
        str(port),
        str(workers),
        proxies,
        settings.log_level,
        str(http_threads(settings.sync_database_url)),
    ]
    os.execv(sys.executable, args)  # noqa: S606  # our own module, no shell


def main(argv: list[str]) -> None:
    host, port, workers, proxies, log_level, threads = argv
    options = gunicorn_options(host, int(port), int(workers), proxies, log_level, int(threads))
    GunicornApplication(options).run()


if __name__ == "__main__":  # pragma: no cover  # run by run_server, in its own process
    main(sys.argv[1:])
