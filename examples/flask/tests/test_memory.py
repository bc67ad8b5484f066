import gc

import pytest

from example.memory import keep_out_of_gc


def test_what_lives_as_long_as_the_worker_is_frozen_after_one_last_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda: steps.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: steps.append("freeze"))

    keep_out_of_gc()

    assert steps == ["collect", "freeze"]
