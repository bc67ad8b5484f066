"""Prometheus metrics at /metrics (METRICS_ENABLED): request counts by method, route template
and status, and a latency histogram, summed over every worker process.

`serve` gives its worker processes one directory to share (prometheus-client's multiprocess
mode, PROMETHEUS_MULTIPROC_DIR) before any of them imports prometheus-client; the exposition
then adds up every process's files. Without that directory (one process, the tests), the
app's own registry answers. prometheus-client is imported only when metrics are on."""

import os
import re
import tempfile
from pathlib import Path

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# The route label of a request that matched no route: one series for every unknown path.
UNMATCHED_ROUTE = "<unmatched>"
_FLASK_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def prepare_multiprocess_directory() -> Path:
    """The directory the workers share, set in the environment they inherit; emptied of an
    earlier run's files (they would add their counts)."""
    configured = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="example-metrics-"))
        os.environ[MULTIPROCESS_DIR_VARIABLE] = str(directory)
    return directory


def route_template(rule: str) -> str:
    """One spelling of a route in both flavors: Flask's `<int:item_id>` is `{item_id}`."""
    return _FLASK_PARAMETER.sub(r"{\1}", rule)


class RequestMetrics:
    """The request metrics of one app: a registry of its own, so that several apps in one
    process (the tests) do not clash."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response, by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )

    def observe(self, method: str, route: str | None, status: int, seconds: float) -> None:
        label = route if route is not None else UNMATCHED_ROUTE
        self.requests.labels(method, label, str(status)).inc()
        self.latency.labels(method, label).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text format of every worker process's metrics, and its media type."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
