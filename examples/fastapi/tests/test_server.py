from typing import Any

import pytest
import uvicorn

from example import server
from example.settings import get_settings
from tests.common import ServedApp


def test_run_server_starts_uvicorn_on_the_app_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))

    server.run_server("192.0.2.10", 9000, 3)

    [(args, kwargs)] = calls
    assert args == ("example.server:serving_app",)
    assert kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("192.0.2.10", 9000, 3)
    assert kwargs["access_log"] is False
    # uvicorn's own default believes X-Forwarded-For from 127.0.0.1: not here.
    assert kwargs["proxy_headers"] is False


def test_the_garbage_collector_is_tuned_once_the_served_app_is_built(
    served_app: ServedApp,
) -> None:
    assert server.serving_app() is served_app.app
    assert served_app.steps == ["app", f"tuned, young threshold {server.YOUNG_THRESHOLD}"]


def test_uvicorn_trusts_the_forwarded_headers_of_trusted_proxies_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5, 192.168.0.0/16")
    get_settings.cache_clear()
    try:
        server.run_server("127.0.0.1", 9000, 1)
    finally:
        get_settings.cache_clear()

    [kwargs] = calls
    assert kwargs["proxy_headers"] is True
    assert kwargs["forwarded_allow_ips"] == "10.0.0.5/32,192.168.0.0/16"
