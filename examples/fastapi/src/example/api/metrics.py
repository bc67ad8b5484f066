"""GET /metrics and the middleware that counts every request (see metrics.py); registered by
create_app only when METRICS_ENABLED is on (otherwise /metrics is a 404)."""

import time

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example.metrics import RequestMetrics

router = APIRouter(tags=["metrics"], include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """The Prometheus text format, summed over the server's worker processes."""
    body, media_type = request.app.state.metrics.exposition()
    return Response(body, media_type=media_type)


class MetricsMiddleware:
    """Counts each HTTP request by method, route template (the router that matched it puts
    the route in the scope) and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.observe(scope["method"], _route_template(scope), status, seconds)


def _route_template(scope: Scope) -> str | None:
    """The path template of the route that answered, None when no route matched.

    FastAPI keeps the routes of an included router as declared (without the include's
    prefix) and the full path in its own part of the scope; a mounted app's route (the
    admin's) is under its mount path, which the router put in root_path."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path", None) or getattr(scope.get("route"), "path", None)
    return None if path is None else scope.get("root_path", "") + path
