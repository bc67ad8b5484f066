import os
import re
from pathlib import Path
from typing import Any

import pytest

from example.metrics import (
    MULTIPROCESS_DIR_VARIABLE,
    prepare_multiprocess_directory,
    route_template,
)
from tests.common import ApiClient


def test_metrics_are_off_by_default(client: ApiClient) -> None:
    assert client.get("/metrics").status_code == 404


def count(text: str, method: str, route: str, status: int) -> float:
    series = "http_requests_total{" + f'method="{method}",route="{route}",status="{status}"' + "}"
    found = re.search("^" + re.escape(series) + r" (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


class TestMetricsEnabled:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"metrics_enabled": True}

    def test_requests_are_counted_by_method_route_template_and_status(
        self, client: ApiClient
    ) -> None:
        before = client.get("/metrics").text
        for _ in range(3):
            assert client.get("/health/live").status_code == 200
        assert client.get("/api/v1/items/999999").status_code == 404
        assert client.get("/no/such/page").status_code == 404

        response = client.get("/metrics")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text

        def counted(route: str, status: int) -> float:
            return count(text, "GET", route, status) - count(before, "GET", route, status)

        assert counted("/health/live", 200) == 3
        assert counted("/api/v1/items/{item_id}", 404) == 1
        assert counted("<unmatched>", 404) == 1
        assert re.search(
            r'^http_request_duration_seconds_count\{method="GET",route="/health/live"\} \S+$',
            text,
            re.M,
        )

    def test_metrics_are_not_in_the_api_schema(self, client: ApiClient) -> None:
        assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_route_templates_read_the_same_in_both_flavors() -> None:
    assert route_template("/api/v1/items/<int:item_id>") == "/api/v1/items/{item_id}"
    assert route_template("/api/v1/items/{item_id}") == "/api/v1/items/{item_id}"
    assert route_template("/a/<name>/b/<path:rest>") == "/a/{name}/b/{rest}"


def test_serve_gives_the_workers_an_empty_directory_to_share(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR_VARIABLE, raising=False)
    made = prepare_multiprocess_directory()
    assert os.environ[MULTIPROCESS_DIR_VARIABLE] == str(made)
    assert made.is_dir()
    assert list(made.iterdir()) == []
    made.rmdir()

    configured = tmp_path / "metrics"
    configured.mkdir()
    (configured / "counter_1234.db").write_bytes(b"an earlier run's counts")
    monkeypatch.setenv(MULTIPROCESS_DIR_VARIABLE, str(configured))
    assert prepare_multiprocess_directory() == configured
    assert list(configured.iterdir()) == []
