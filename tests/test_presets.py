"""The answer presets in examples/presets/ stay valid for the questionnaire they feed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scaffold.questionnaire import check_answers, load_data_file, load_questions
from scaffold.render import new_project

REPO_ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((REPO_ROOT / "examples" / "presets").glob("*.yml"))


def test_there_are_presets_for_both_frameworks() -> None:
    frameworks = {yaml.safe_load(path.read_text())["framework"] for path in PRESETS}
    assert frameworks == {"flask", "fastapi"}


@pytest.mark.parametrize("preset", PRESETS, ids=[path.stem for path in PRESETS])
def test_preset_answers_are_known_and_valid(preset: Path, tmp_path: Path) -> None:
    answers = load_data_file(preset)
    check_answers(answers, load_questions(REPO_ROOT / "copier.yml"))

    # --pretend runs copier's own validators and writes nothing.
    result = new_project(tmp_path / "project", data_file=preset, defaults=True, pretend=True)

    assert result.pretend
    assert {key: result.answers[key] for key in answers} == answers
    assert list(tmp_path.iterdir()) == []
