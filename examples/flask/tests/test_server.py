from typing import Any

import pytest

from example import server


def test_run_server_configures_gunicorn_and_serves_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[server.GunicornApplication] = []
    monkeypatch.setattr(server.GunicornApplication, "run", lambda self: started.append(self))
    sentinel: Any = object()
    monkeypatch.setattr(server, "create_app", lambda: sentinel)

    server.run_server("192.0.2.10", 9000, 3)

    [application] = started
    assert application.cfg.bind == ["192.0.2.10:9000"]
    assert application.cfg.workers == 3
    assert application.cfg.accesslog is None
    assert application.load() is sentinel
