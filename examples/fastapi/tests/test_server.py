from typing import Any

import pytest
import uvicorn

from example import server


def test_run_server_starts_uvicorn_on_the_app_factory(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))

    server.run_server("192.0.2.10", 9000, 3)

    [(args, kwargs)] = calls
    assert args == ("example.app:create_app",)
    assert kwargs["factory"] is True
    assert (kwargs["host"], kwargs["port"], kwargs["workers"]) == ("192.0.2.10", 9000, 3)
    assert kwargs["access_log"] is False
