import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from example.memory import tune_gc


@pytest.mark.parametrize(
    ("young_threshold", "after_the_freeze"),
    [(None, []), (20_000, ["threshold (20000, 11, 12)"])],
)
def test_what_lives_as_long_as_the_worker_is_frozen_after_one_last_collection(
    monkeypatch: pytest.MonkeyPatch, young_threshold: int | None, after_the_freeze: list[str]
) -> None:
    steps: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda: steps.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: steps.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *limits: steps.append(f"threshold {limits}"))
    monkeypatch.setattr(gc, "get_threshold", lambda: (700, 11, 12))

    tune_gc(young_threshold)

    assert steps == ["collect", "freeze", *after_the_freeze]


def test_the_garbage_collector_is_back_on_once_the_tests_are_collected() -> None:
    # tests/__init__.py turns it off while pytest imports the tests, tests/common.py on again
    # after collection: left off, every reference cycle a test makes would stay in memory.
    assert gc.isenabled()


@pytest.mark.parametrize(("under_pytest", "enabled"), [(True, "False"), (False, "True")])
def test_the_tests_turn_the_garbage_collector_off_only_under_pytest(
    under_pytest: bool, enabled: str
) -> None:
    # A script that imports a helper of the tests (a fresh interpreter, the project's root
    # as its working directory) keeps its garbage collector.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    if under_pytest:
        env["PYTEST_VERSION"] = pytest.__version__
    code = "import gc, tests; print(gc.isenabled())"
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(  # noqa: S603  # this interpreter, our own code
        [sys.executable, "-S", "-c", code],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.stdout.strip() == enabled, result.stderr
