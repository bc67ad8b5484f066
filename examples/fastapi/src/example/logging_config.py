"""JSON logs on stdout through structlog, one object per line, with no secret in them.

Whatever writes a line (the app, uvicorn, gunicorn, Werkzeug, a library), the line is
cleaned before it is written (redaction.py).

The package's modules take structlog from here (`get_logger`, the request context's
functions): structlog imports rich, and with it Pygments and attrs (~0.1 s and ~4 MiB in
every process), whenever rich is installed (typer brings it), for a console renderer and
tracebacks these JSON lines never use. It is imported here with rich hidden, so it takes
rich for absent; an `import rich` afterwards works as usual.
"""

import logging
import sys
from typing import Any

from example.redaction import RedactingFilter, redact_event

_HIDE_RICH = "rich" not in sys.modules
if _HIDE_RICH:
    sys.modules["rich"] = None  # type: ignore[assignment]  # `import rich` fails meanwhile
try:
    import structlog
finally:
    if _HIDE_RICH:
        del sys.modules["rich"]

# The request context every line of a request carries (its request id).
bind_contextvars = structlog.contextvars.bind_contextvars
reset_contextvars = structlog.contextvars.reset_contextvars
clear_contextvars = structlog.contextvars.clear_contextvars


def get_logger(name: str) -> Any:
    """structlog's logger `name` (its lines go through `configure_logging`'s pipeline)."""
    return structlog.get_logger(name)


# Loggers that write through handlers of their own rather than the root's.
OWN_HANDLER_LOGGERS = ("gunicorn.error", "gunicorn.access")


def configure_logging(level: str = "INFO") -> None:
    """Route structlog and the standard library's loggers to JSON lines on stdout."""
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_event,
            structlog.processors.JSONRenderer(),
        ],
    )
    # No line shows the caller's file, function or line, which the standard library would
    # otherwise find out for every record by walking the stack, nor the multiprocessing
    # process's or the asyncio task's name, which it looks up for every record too (outside
    # an event loop, by raising and catching an error): ~7 us of an access-log line's ~70
    # (the Logging HOWTO's "Optimization"). The process id stays: gunicorn's format shows it.
    logging._srcfile = None
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # Python 3.12+, not in typeshed
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in OWN_HANDLER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
