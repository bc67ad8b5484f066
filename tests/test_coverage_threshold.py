"""A generated project's coverage threshold (90 %, `--cov-fail-under` in pyproject.toml) is the
whole suite's (both frameworks).

`uv run pytest`, the suite as CI runs it, fails below it; a run of some tests (a file, `-k`)
reports coverage without failing on it, or every edit-and-test loop on one file
would end in "Required test coverage of 90% not reached" and exit 1 (tests/common.py). Needs
the package index (uv sync).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.render import new_project
from tests.conftest import FRAMEWORKS
from tests.helpers import UV, explain, run, tool_env

pytestmark = pytest.mark.smoke

# A file named on the command line; a keyword that deselects all but one test of the suite.
SOME_TESTS = {
    "a file": ["tests/test_users.py"],
    "-k": ["-k", "test_me_returns_the_current_user"],
}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_run_of_some_tests_reports_coverage_and_only_the_whole_suite_fails_below_the_threshold(
    tmp_path: Path, framework: str
) -> None:
    project = new_project(
        tmp_path / "coverage-check", framework=framework, defaults=True, git=False
    )
    env = tool_env()
    sync = run([UV, "sync"], project.dest, env=env)
    assert sync.returncode == 0, explain([UV, "sync"], sync)

    for name, selection in SOME_TESTS.items():
        cmd = [UV, "run", "pytest", *selection]
        proc = run(cmd, project.dest, env=env)
        assert proc.returncode == 0, f"{name}: {explain(cmd, proc)}"
        assert "passed" in proc.stdout, name
        assert "TOTAL" in proc.stdout, f"{name}: no coverage report\n{proc.stdout[-2000:]}"
        assert "Required test coverage" not in proc.stdout, name

    # The whole suite keeps a threshold: one above its coverage fails it.
    cmd = [UV, "run", "pytest", "--cov-fail-under=100"]
    whole = run(cmd, project.dest, env=env)
    assert whole.returncode == 1, explain(cmd, whole)
    assert "Required test coverage of 100% not reached" in whole.stdout, whole.stdout[-2000:]
    assert " failed" not in whole.stdout.splitlines()[-1], whole.stdout[-2000:]  # all passed
