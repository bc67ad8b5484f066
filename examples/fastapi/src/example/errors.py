"""Error responses: always JSON, always {"detail": ...} (API-CONTRACT.md).

HTTPException (ours, Starlette's 404/405 for unknown routes and methods, the 413 from
middleware.py) keeps FastAPI's own handler, which already answers {"detail": message}.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example.database_errors import (
    UNAVAILABLE_DETAIL,
    UNAVAILABLE_ERRORS,
    NulCharacterError,
    database_unavailable,
    nul_character_detail,
)
from example.logging_config import get_logger
from example.middleware import REQUEST_ID_HEADER

log = get_logger("example.errors")


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(NulCharacterError, handle_nul_character)
    for unavailable in UNAVAILABLE_ERRORS:
        app.add_exception_handler(unavailable, handle_unavailable)
    # Exception is handled by Starlette's outermost middleware, after every other one.
    app.add_exception_handler(Exception, handle_unhandled_error)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 in FastAPI's list shape, trimmed to loc/msg/type.

    `input` would echo the request (e.g. a password) and `ctx` may hold objects that
    are not JSON-serialisable (e.g. the ValueError raised by a validator).
    """
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [_error_entry(error) for error in errors]
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _error_entry(error: Any) -> dict[str, Any]:
    loc = [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
    return {"loc": loc, "msg": str(error.get("msg", "")), "type": str(error.get("type", ""))}


async def handle_nul_character(request: Request, exc: Exception) -> JSONResponse:
    """Text with the NUL character that no validation caught (database_errors.py): a 422."""
    detail = nul_character_detail(request.method)
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def handle_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 while the database cannot be reached; other database errors go on to the 500."""
    if not database_unavailable(exc):
        raise exc
    log.warning("service_unavailable", error=type(exc).__name__)
    return JSONResponse(
        {"detail": UNAVAILABLE_DETAIL}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE
    )


class MountedAppErrors:
    """The error answers of an app mounted in this one (the admin's): its outermost middleware.

    A mounted app's exception handlers cover its routes, not its middleware (the admin's login
    check reads its session from the database); and what it does not handle, it answers with
    a 500 of its own and raises again, too late for this app's handlers. So here, for anything
    its routes or middleware raise: a 503 for what cannot be reached, else a 500 (logged once,
    with its traceback), both as this app answers them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting_start)
        except Exception as exc:
            if started:
                raise
            request = Request(scope, receive)
            if database_unavailable(exc):
                response = await handle_unavailable(request, exc)
            else:
                response = _internal_error(request, exc)
            await response(scope, receive, send)


async def handle_unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: log it with its traceback; the client gets a plain 500, never a traceback.

    This handler runs outside the app's middleware: it adds the headers they would.
    """
    response = _internal_error(request, exc)
    response.headers.update(dict(request.app.state.security_headers.always))
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    log.error("unhandled_exception", request_id=request_id, exc_info=exc)
    return JSONResponse(
        {"detail": "Internal Server Error"}, status_code=status.HTTP_500_INTERNAL_SERVER_ERROR
    )


class BodyErrorRoute(APIRoute):
    """A route whose unreadable bodies are 422s, like every other malformed body.

    FastAPI reports a body that is not UTF-8, nests too deeply for the JSON parser or is
    broken multipart as a bare 400 "There was an error parsing the body"; the contract
    (and the Flask flavor) answer 422 in the validation-error shape.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:  # FastAPI raises Starlette's class here
                if exc.status_code != status.HTTP_400_BAD_REQUEST or exc.__cause__ is None:
                    raise
                error = {"type": "json_invalid", "loc": ("body",), "msg": "Unreadable body"}
                raise RequestValidationError([error]) from exc

        return handle
