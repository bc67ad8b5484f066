"""Pure ASGI middleware: a request id with one JSON access-log line, and a body-size limit."""

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed only if it is short and plain (it ends up in logs and headers).
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
BODY_TOO_LARGE = "Request body too large"

access_log = structlog.get_logger("example.access")


class RequestContextMiddleware:
    """Give every request an id (echoed in X-Request-ID) and log one line when it ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        # For the 500 handler, which runs outside this middleware (errors.py).
        scope.setdefault("state", {})["request_id"] = request_id
        # Until a response starts, an exception means Starlette will answer 500.
        response_status = 500
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal response_status
            if message["type"] == "http.response.start":
                response_status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            finally:
                access_log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=response_status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )


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
        declared = Headers(scope=scope).get("content-length", "")
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
