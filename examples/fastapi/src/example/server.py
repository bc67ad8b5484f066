"""The production server: uvicorn, serving the app factory."""

import uvicorn

from example.logging_config import configure_logging
from example.metrics import prepare_multiprocess_directory
from example.settings import get_settings


def run_server(host: str, port: int, workers: int) -> None:
    settings = get_settings()
    # uvicorn's own logs (startup, errors) go through the root logger as JSON too.
    configure_logging(settings.log_level)
    if settings.metrics_enabled:  # before any worker imports prometheus-client
        prepare_multiprocess_directory()
    uvicorn.run(
        # An import string and factory=True: each worker process builds its own app.
        "example.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        # The app writes its own JSON access log (middleware.py).
        access_log=False,
    )
