"""The benchmark scripts' bad input: one line on stderr, a non-zero exit, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_time_to_green_refuses_a_cookiecutter_flask_dir_that_is_no_template(
    tmp_path: Path,
) -> None:
    not_a_template = tmp_path / "not-a-template"
    not_a_template.mkdir()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = REPO_ROOT / "benchmarks" / "time_to_green.py"

    proc = subprocess.run(
        [sys.executable, str(script), "--cookiecutter-flask", str(not_a_template)],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
        timeout=60,
        check=False,
    )

    assert proc.returncode == 1
    assert proc.stderr == (
        f"error: {not_a_template} is not a cookiecutter template (no cookiecutter.json)\n"
    )
    assert proc.stdout == ""
    assert not list(scratch.iterdir())  # no work directory made
    assert not list(not_a_template.iterdir())
