"""Per-request plumbing: a request id, an early 413, the security headers, one JSON
access-log line."""

import io
import re
import secrets
import time

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from example.headers import SecurityHeaders
from example.logging_config import bind_contextvars, clear_contextvars, get_logger
from example.script_nonce import ScriptNonceExtension

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed only if it is short and plain (it ends up in logs and headers).
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access_log = get_logger("example.access")


def _new_request_id() -> str:
    # 128 random bits in hex, as uuid4().hex gives, at a fifth of its cost.
    return secrets.token_hex(16)


def init_app(app: Flask, *, production: bool) -> None:
    app.extensions["security_headers"] = SecurityHeaders(production=production)
    # The inline scripts of every template (the docs page's, the admin's) carry the page's
    # nonce, which its Content-Security-Policy names.
    app.jinja_env.add_extension(ScriptNonceExtension)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_forget_request)


def _start_request() -> None:
    # First: the response to a refused body (below) gets the headers too.
    g.security_headers = current_app.extensions["security_headers"].for_path(request.path)
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else _new_request_id()
    g.request_started = time.perf_counter()
    clear_contextvars()
    bind_contextvars(request_id=g.request_id)
    # One hook rather than two: Flask's per-hook overhead is paid on every request.
    _refuse_large_bodies()


def _refuse_large_bodies() -> None:
    # Werkzeug would only refuse the body once a view reads it; refuse it up front, so
    # every route answers 413 the same way, before authentication or routing errors.
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    environ = request.environ
    if request.content_length is None and environ.get("wsgi.input_terminated"):
        # A chunked body announces no length, and Werkzeug would silently cut it at the
        # limit; buffer it (one byte past the limit at most) and give it a length.
        body = environ["wsgi.input"].read(limit + 1)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or _new_request_id()
    response.headers[REQUEST_ID_HEADER] = request_id
    security_headers = g.get("security_headers")
    if security_headers is None:  # the request failed before _start_request ran
        security_headers = current_app.extensions["security_headers"].always
    for name, value in security_headers:
        response.headers[name] = value
    started = g.get("request_started", time.perf_counter())
    access_log.info(
        "request",
        method=request.method,
        path=request.path,
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return response


def _forget_request(_error: BaseException | None = None) -> None:
    # Log lines written between requests must not carry the last request's id.
    clear_contextvars()
