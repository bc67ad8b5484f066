"""The production server: uvicorn, serving the app factory."""

import signal
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from example.logging_config import configure_logging
from example.memory import tune_gc
from example.metrics import prepare_multiprocess_directory
from example.settings import get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI


# The requests in flight on the event loop hold many objects at once: with gc's 2000, the
# young generation was collected a hundred times a second under load, moving objects still in
# use on to older generations (0.6-0.7 s of 13 s); with 20000, not once in the same run.
YOUNG_THRESHOLD = 20_000


def serving_app() -> "FastAPI":
    """The app a server's worker serves: `create_app()`, then the garbage collector tuned for
    serving it (memory.py)."""
    from example.app import create_app

    app = create_app()
    tune_gc(young_threshold=YOUNG_THRESHOLD)
    return app


def _stopped_by_request(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run_server(host: str, port: int, workers: int) -> None:
    settings = get_settings()
    # uvicorn's own logs (startup, errors) go through the root logger as JSON too.
    configure_logging(settings.log_level)
    if settings.metrics_enabled:  # before any worker imports prometheus-client
        prepare_multiprocess_directory()
    # uvicorn stops gracefully on SIGTERM (the requests in flight are answered), then raises
    # the signal again, which would end the process with 143: a stop that was asked for is a
    # success, exit 0 (this handler is the one uvicorn restores before raising it).
    signal.signal(signal.SIGTERM, _stopped_by_request)
    proxies = ",".join(str(network) for network in settings.trusted_proxies)
    uvicorn.run(
        # An import string and factory=True: each worker process builds its own app.
        "example.server:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # The app writes its own JSON access log (middleware.py).
        access_log=False,
        # X-Forwarded-For and -Proto are believed from TRUSTED_PROXIES only (by default from
        # no one: uvicorn's own default trusts 127.0.0.1); the app finds the client address
        # from the same setting (client_address.py).
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies,
    )
