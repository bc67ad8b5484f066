"""The smoke matrix: every answer preset, rendered and put through its own checks by
``run_smoke`` (install, lint, format, types, migrations, tests with coverage >= 90%).

One test per preset, so a failure names its preset. Needs the network to the package index
(uv sync), the Python each project targets on PATH (uv never downloads interpreters), and
PostgreSQL for the postgresql presets (``SCAFFOLD_SMOKE_POSTGRES_URL``, default the local
server); CI's `.ci/run` starts it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.presets import list_presets
from scaffold.smoke import STEPS, run_smoke

pytestmark = pytest.mark.smoke

PRESETS = [preset.name for preset in list_presets()]


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_passes_all_its_checks(preset: str, tmp_path: Path) -> None:
    # Kept under tmp_path: pytest keeps the last runs' projects for a look after a failure.
    report = run_smoke([preset], keep=tmp_path)

    (run,) = report.presets
    steps = [result.step for result in run.results]
    assert {step.name for step in STEPS} <= set(steps), steps
    timings = ", ".join(f"{r.step} {r.seconds:.0f} s" for r in run.results)
    print(f"{preset}: {run.seconds:.0f} s ({timings})")
    failures = [
        f"{r.step}: {r.status}: {r.detail}\n{r.output_tail}"
        for r in run.results
        if r.status != "passed"
    ]
    if failures:
        pytest.fail(f"[{preset}] " + "\n\n".join(failures), pytrace=False)
    assert (tmp_path / preset / "pyproject.toml").is_file()
