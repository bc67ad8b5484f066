"""The production server: gunicorn, embedded, serving `create_app()`."""

import os
import socket
import sys
from concurrent import futures
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers import gthread

if TYPE_CHECKING:
    from flask import Flask

# Requests a worker process serves at once (gunicorn's gthread worker): enough to keep the
# CPU busy while some of them wait on the database, each with a pooled connection of its own
# (db.POOL_SIZE). More threads would only contend for the GIL: the others wait in a queue.
HTTP_THREADS = 8
# Open WebSocket connections a worker process holds at once (api/ws.py): each holds a thread
# of its own for as long as it is open, in a pool apart from HTTP_THREADS, so that plain
# requests keep their threads (and no more) however many WebSockets are open.
WS_THREADS = 100
WS_PATH = "/api/v1/ws/items"
_WS_REQUEST_LINE = f"GET {WS_PATH}".encode()


class ThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's gthread worker, with a second thread pool for the WebSocket connections.

    Which pool serves a new connection is decided from its request line, read ahead without
    consuming it (MSG_PEEK); a connection with nothing to read yet waits in gunicorn's
    poller, as gunicorn itself makes a slow client wait, and is routed once it has.
    """

    def init_process(self) -> None:
        self.ws_pool = futures.ThreadPoolExecutor(WS_THREADS, thread_name_prefix="websocket")
        super().init_process()

    def enqueue_req(self, conn: Any) -> None:  # called in the worker's main thread
        if conn.initialized:  # a kept-alive connection: a browser opens one per WebSocket
            super().enqueue_req(conn)
            return
        try:
            start = conn.sock.recv(len(_WS_REQUEST_LINE), socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            waiting: futures.Future[object] = futures.Future()
            waiting.set_result(gthread._DEFER)
            self.finish_request(conn, waiting)
            return
        except OSError:  # the client is gone: the HTTP pool's thread finds out and closes
            start = b""
        if start != _WS_REQUEST_LINE:
            super().enqueue_req(conn)
            return
        handled = self.ws_pool.submit(self.handle, conn)
        handled.add_done_callback(
            lambda done: self.method_queue.defer(self.finish_request, conn, done)
        )


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

        return create_app()


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threaded workers, as flask-sock documents for gunicorn: a WebSocket holds a thread.
        "worker_class": "example.server.ThreadWorker",
        "threads": HTTP_THREADS,
        # How long a connection may stay silent, before its first request or between two.
        "keepalive": 5,
        # The app writes its own JSON access log (middleware.py).
        "accesslog": None,
    }


def run_server(host: str, port: int, workers: int) -> None:
    """Become gunicorn's master process, in a fresh interpreter.

    The command line has loaded Typer, and maybe more, that the master never uses; starting
    afresh (the same process, so signals and the process id stay) keeps it small.
    """
    from example.metrics import prepare_multiprocess_directory
    from example.settings import get_settings

    if get_settings().metrics_enabled:  # the workers inherit the directory in the environment
        prepare_multiprocess_directory()
    args = [sys.executable, "-m", "example.server", host, str(port), str(workers)]
    os.execv(sys.executable, args)  # noqa: S606  # our own module, no shell


def main(argv: list[str]) -> None:
    host, port, workers = argv
    GunicornApplication(gunicorn_options(host, int(port), int(workers))).run()


if __name__ == "__main__":  # pragma: no cover  # run by run_server, in its own process
    main(sys.argv[1:])
