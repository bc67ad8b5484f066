"""Generate each flavor with the default answers and run the project's own checks.

Needs the network to the package index (uv sync) and the Python the project targets on
PATH (uv never downloads interpreters here; CI adds the pyenv versions to PATH).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.render import new_project
from tests.helpers import UV, explain, run

pytestmark = pytest.mark.smoke

STEPS: list[tuple[str, list[str]]] = [
    ("install", [UV, "sync"]),
    ("migrate", [UV, "run", "alembic", "upgrade", "head"]),
    ("migrations match models", [UV, "run", "alembic", "check"]),
    ("lint", [UV, "run", "ruff", "check"]),
    ("format", [UV, "run", "ruff", "format", "--check"]),
    ("types", [UV, "run", "mypy"]),
    ("tests", [UV, "run", "pytest"]),
]


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_generated_project_passes_its_own_checks(tmp_path: Path, framework: str) -> None:
    result = new_project(tmp_path / f"smoke-{framework}", framework=framework, defaults=True)
    project = result.dest
    assert (project / "pyproject.toml").is_file()
    # Every step runs (after a successful install) so one report shows all that is wrong.
    failures = []
    for name, cmd in STEPS:
        proc = run(cmd, project)
        if proc.returncode != 0:
            failures.append(f"step {name!r} failed\n{explain(cmd, proc)}")
            if name == "install":
                break  # nothing else can run
    if failures:
        pytest.fail(f"[{framework}] " + "\n\n".join(failures), pytrace=False)
