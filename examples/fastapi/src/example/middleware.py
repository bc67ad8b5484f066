"""Pure ASGI middleware: a request id, the security headers and one JSON access-log line; a
body-size limit."""

import logging
import os
import re
import time

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example.headers import Header, SecurityHeaders
from example.logging_config import bind_contextvars, get_logger, reset_contextvars

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.lower().encode()
# An incoming id is echoed only if it is short and plain (it ends up in logs and headers).
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
BODY_TOO_LARGE = "Request body too large"

access_log = get_logger("example.access")


class RequestContextMiddleware:
    """Give every request an id (echoed in X-Request-ID) and the security headers
    (headers.py), and log one line when it ends."""

    def __init__(self, app: ASGIApp, security_headers: SecurityHeaders) -> None:
        self.app = app
        self.security_headers = security_headers
        self._always = _raw_headers(security_headers.always)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Every request pays for this middleware: the raw headers are read directly, not
        # through a Headers object, and the id is 16 random bytes like a UUID4's hex.
        incoming = _header(scope, _REQUEST_ID_KEY)
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        id_header = (_REQUEST_ID_KEY, request_id.encode())
        security = self.security_headers.for_path(scope["path"])
        added = self._always if security is self.security_headers.always else _raw_headers(security)
        # For the 500 handler, which runs outside this middleware (errors.py).
        scope.setdefault("state", {})["request_id"] = request_id
        # Until a response starts, an exception means Starlette will answer 500.
        response_status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal response_status
            if message["type"] == "http.response.start":
                response_status = message["status"]
                names = {name for name, _ in added}
                message["headers"] = [
                    *(header for header in message.get("headers", ()) if header[0] not in names),
                    *added,
                    id_header,
                ]
            await send(message)

        tokens = bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=response_status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            reset_contextvars(**tokens)


def _raw_headers(headers: list[Header]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers]


def _header(scope: Scope, key: bytes) -> str:
    """The first value of the header `key` (lower case), or ""."""
    name: bytes
    value: bytes
    for name, value in scope["headers"]:
        if name == key:
            return value.decode("latin-1")
    return ""


class RequestBodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413, detail=BODY_TOO_LARGE)


class BodySizeLimitMiddleware:
    """Answer 413 to a body over `max_bytes`: up front from Content-Length, and while
    reading a body sent without one (chunked) by counting its bytes."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse({"detail": BODY_TOO_LARGE}, status_code=413)
            await response(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException: FastAPI re-raises it from its body reading, and
                    # its exception handler turns it into the JSON 413.
                    raise RequestBodyTooLarge
            return message

        await self.app(scope, receive_within_limit, send)
