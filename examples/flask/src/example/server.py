"""The production server: gunicorn, embedded, serving `create_app()`."""

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from example.app import create_app

# Threads per worker process: open WebSocket connections plus the HTTP requests in flight.
WORKER_THREADS = 100


class GunicornApplication(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn configured from arguments instead of its command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Called in each worker process: every worker builds its own app and engine.
        return create_app()


def run_server(host: str, port: int, workers: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Each open WebSocket (/api/v1/ws/items) holds a thread for as long as it is open:
        # threaded workers with room for many, as flask-sock documents for gunicorn.
        "worker_class": "gthread",
        "threads": WORKER_THREADS,
        # The app writes its own JSON access log (middleware.py).
        "accesslog": None,
    }
    GunicornApplication(options).run()
