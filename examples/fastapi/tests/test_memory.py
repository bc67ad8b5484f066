import gc

import pytest

from example.memory import YOUNG_THRESHOLD, tune_gc


def test_what_lives_as_long_as_the_worker_is_frozen_after_one_last_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda: steps.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: steps.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *limits: steps.append(f"threshold {limits}"))
    monkeypatch.setattr(gc, "get_threshold", lambda: (700, 11, 12))

    tune_gc()

    assert steps == ["collect", "freeze", f"threshold {(YOUNG_THRESHOLD, 11, 12)}"]
