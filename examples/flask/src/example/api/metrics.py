"""GET /metrics and the hooks that count every request (see metrics.py); installed by
create_app only when METRICS_ENABLED is on (otherwise /metrics is a 404)."""

import time

from flask import Flask, Response, current_app, g, request

from example.metrics import RequestMetrics, route_template


def init_metrics(app: Flask) -> None:
    app.extensions["metrics"] = RequestMetrics()
    app.before_request(_start_timer)
    app.after_request(_count_request)
    # Not a flask-smorest route: /metrics is for Prometheus, not part of the API's schema.
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])


def metrics() -> Response:
    """The Prometheus text format, summed over the server's worker processes."""
    body, media_type = current_app.extensions["metrics"].exposition()
    return Response(body, mimetype=media_type)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _count_request(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else None
        current_app.extensions["metrics"].observe(
            request.method,
            route_template(rule) if rule is not None else None,
            response.status_code,
            time.perf_counter() - started,
        )
    return response
