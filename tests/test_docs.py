"""scaffold's documentation site builds with `mkdocs build --strict`, reference included."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, copier_questions
from tests.helpers import explain, run, tool_env


def test_docs_build_strictly_with_the_questionnaire_generated_from_copier_yml(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    # Material's banner about its successor is noise in a failure message.
    proc = run(cmd, REPO_ROOT, timeout=300, env=tool_env({"NO_MKDOCS_2_WARNING": "1"}))
    assert proc.returncode == 0, explain(cmd, proc)

    reference = (site / "questionnaire" / "index.html").read_text(encoding="utf-8")
    assert "questionnaire: generated from copier.yml" not in reference, "the hook did not run"
    questions = copier_questions()
    assert len(questions) > 5
    for name in questions:
        assert f'id="{name}"' in reference, f"the reference has no section for {name}"
    # Values that exist only in copier.yml: the reference was read from it.
    for text in ("postgresql", "BSD-3-Clause", "Human-readable project name"):
        assert text in reference
    for page in ("architecture", "updating", "adding-an-option"):
        assert (site / page / "index.html").is_file(), f"{page} page not built"
