"""What no log line may show: query strings (they may carry a token or a password, and
servers log request lines whole), bearer tokens and JWTs, values of fields named like a
password, token or secret.

The standard library only: logging_config's JSON lines go through `redact_event`, and a
process that writes only a few lines of its own (gunicorn's master, in the Flask flavor)
redacts them without loading structlog.
"""

import functools
import logging
import re
from typing import Any

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
