"""JSON logs on stdout through structlog, one object per line, with no secret in them.

Whatever writes a line (the app, uvicorn, gunicorn, Werkzeug, a library), the line is
cleaned before it is written (`redact`): no query string (it may carry a token or a
password, and servers log request lines whole), no bearer token or JWT, no value of a
field named like a password, token or secret.

The package's modules take structlog from here (`get_logger`, the request context's
functions): structlog imports rich, and with it Pygments and attrs (~0.1 s and ~4 MiB in
every process), whenever rich is installed (typer brings it), for a console renderer and
tracebacks these JSON lines never use. It is imported here with rich hidden, so it takes
rich for absent; an `import rich` afterwards works as usual.
"""

import functools
import logging
import re
import sys
from typing import Any

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

REDACTED = "[redacted]"
# A URL or path with a query string: the query string goes, the path stays.
_QUERY_STRING = re.compile(r"(/[^\s\"'?#]*)\?[^\s\"'#\\]+")
_JWT = re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+")
_REDACTED_NAMES = "password|passwd|secret|token|authorization|cookie"
_SECRET_NAME = re.compile(rf"(?i){_REDACTED_NAMES}")
# `"password": "..."` (a JSON field) or `password=...`, for every field named like a secret.
_SECRET_FIELD = re.compile(
    r"""(?ix)
    (["']?\b[\w-]*(?:"""
    + _REDACTED_NAMES
    + r""")["']?\s*[:=]\s*)
    ("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,;&}]+)
    """
)
# What one of the patterns above needs in a text to change it, searched for in the text
# case-folded: most texts (an access log line's path, id, timestamp) hold none of it, and
# plain lower-case literals cost a fraction of a case-insensitive pattern (which tries every
# alternative at every character).
_MAY_HOLD_A_SECRET = re.compile(rf"\?|eyj|bearer|{_REDACTED_NAMES}")


def _may_hold_a_secret(text: str) -> bool:
    return _MAY_HOLD_A_SECRET.search(text.casefold()) is not None


def get_logger(name: str) -> Any:
    """structlog's logger `name` (its lines go through `configure_logging`'s pipeline)."""
    return structlog.get_logger(name)


def redact(text: str) -> str:
    """`text` without query strings, tokens and the values of secret-named fields."""
    if not _may_hold_a_secret(text):
        return text
    text = _QUERY_STRING.sub(r"\1", text)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _SECRET_FIELD.sub(rf"\1{REDACTED}", text)


@functools.lru_cache(maxsize=1024)
def _is_secret_name(key: str) -> bool:
    """Whether a field named `key` holds a secret (the same few names come in every line)."""
    return _SECRET_NAME.search(key) is not None


def redact_event(_logger: Any, _method: str, event_dict: Any) -> Any:
    """A structlog processor: a secret-named field's value goes, every text is `redact`ed
    (the message, the traceback, a foreign library's line)."""
    texts = []
    for key, value in event_dict.items():
        if _is_secret_name(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            texts.append(value)
    # One search over all the line's texts: most lines have nothing to redact.
    if texts and _may_hold_a_secret("\n".join(texts)):
        for key, value in event_dict.items():
            if isinstance(value, str):
                event_dict[key] = redact(value)
    return event_dict


class RedactingFilter(logging.Filter):
    """For loggers with handlers of their own (gunicorn's): their records, `redact`ed."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.getMessage())
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


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
