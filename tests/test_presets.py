"""The answer presets in examples/presets/ stay valid, and together cover the questionnaire:
every value of every choice or yes/no question (for each framework), and every combination of
framework x database x background_tasks. `scaffold smoke` runs them all, so what they cover is
what CI checks."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold.errors import InvalidAnswer, ScaffoldError, UnknownPreset
from scaffold.presets import list_presets, load_preset, presets_dir, select_presets
from scaffold.questionnaire import check_answers, load_data_file, load_questions
from scaffold.render import new_project
from tests.conftest import COPIER_YML, FRAMEWORKS, REPO_ROOT

PRESETS_DIR = REPO_ROOT / "examples" / "presets"
PRESETS = sorted(PRESETS_DIR.glob("*.yml"))
COMBINED = ("framework", "database", "background_tasks")


def _copier() -> dict[str, Any]:
    data = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def choice_values() -> dict[str, list[Any]]:
    """Each choice or bool question of copier.yml with its values, read from the YAML itself."""
    result: dict[str, list[Any]] = {}
    for name, spec in _copier().items():
        if name.startswith("_") or not isinstance(spec, dict):
            continue
        if spec.get("type") == "bool":
            result[name] = [True, False]
        elif isinstance(spec.get("choices"), dict):
            result[name] = list(spec["choices"].values())
        elif isinstance(spec.get("choices"), list):
            result[name] = list(spec["choices"])
    return result


def effective_answers() -> list[dict[str, Any]]:
    """Each preset's answers with copier.yml's defaults for the questions it leaves out."""
    defaults = {name: spec.get("default") for name, spec in _copier().items()
                if not name.startswith("_") and isinstance(spec, dict)}  # fmt: skip
    return [{**defaults, **yaml.safe_load(path.read_text())} for path in PRESETS]


def test_there_are_presets_for_both_frameworks() -> None:
    frameworks = {yaml.safe_load(path.read_text())["framework"] for path in PRESETS}
    assert frameworks == set(FRAMEWORKS)


def test_the_coverage_check_reads_every_choice_question() -> None:
    # Guards the check below against reading copier.yml wrongly (and so covering nothing).
    values = choice_values()
    assert values["framework"] == list(FRAMEWORKS)
    assert values["python_version"] == ["3.11", "3.12", "3.13"]
    assert values["admin"] == [True, False]
    assert set(values) >= {"database", "background_tasks", "docker", "ci", "license"}


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_presets_cover_every_value_of_every_choice_for_each_framework(framework: str) -> None:
    answers = [a for a in effective_answers() if a["framework"] == framework]
    missing = {
        name: [value for value in values if value not in {a[name] for a in answers}]
        for name, values in choice_values().items()
        if name != "framework"
    }
    assert {name: left for name, left in missing.items() if left} == {}, (
        f"no {framework} preset in examples/presets/ uses these values; add or change a preset"
    )


def test_presets_cover_every_framework_database_and_background_tasks_combination() -> None:
    values = choice_values()
    wanted = set(itertools.product(*(values[name] for name in COMBINED)))
    covered = {tuple(answers[name] for name in COMBINED) for answers in effective_answers()}
    assert len(wanted) == 8
    assert sorted(wanted - covered) == []


@pytest.mark.parametrize("preset", PRESETS, ids=[path.stem for path in PRESETS])
def test_preset_answers_are_known_and_valid(preset: Path, tmp_path: Path) -> None:
    answers = load_data_file(preset)
    check_answers(answers, load_questions(REPO_ROOT / "copier.yml"))

    # --pretend runs copier's own validators and writes nothing.
    result = new_project(tmp_path / "project", data_file=preset, defaults=True, pretend=True)

    assert result.pretend
    assert {key: result.answers[key] for key in answers} == answers
    assert list(tmp_path.iterdir()) == []


# --- scaffold.presets ----------------------------------------------------------------------


def test_presets_are_read_from_the_checkout() -> None:
    assert presets_dir() == PRESETS_DIR
    assert [preset.name for preset in list_presets()] == [path.stem for path in PRESETS]


def test_select_presets_filters_by_framework_and_keeps_the_order_given() -> None:
    flask = select_presets(framework="flask")
    assert len(flask) >= 2
    assert {preset.framework for preset in flask} == {"flask"}
    chosen = select_presets(["minimal", "fastapi-default", "minimal"])
    assert [preset.name for preset in chosen] == ["minimal", "fastapi-default"]


def test_unknown_preset_names_the_available_ones() -> None:
    with pytest.raises(UnknownPreset, match="unknown preset 'nope'") as caught:
        select_presets(["nope"])
    assert all(path.stem in caught.value.user_message for path in PRESETS)
    assert caught.value.exit_code == 2


def test_unknown_framework_and_a_preset_of_the_other_framework_are_refused() -> None:
    with pytest.raises(InvalidAnswer, match="'django' is not one of fastapi, flask"):
        select_presets(framework="django")
    with pytest.raises(UnknownPreset, match="'flask-default' is not a fastapi preset"):
        select_presets(["flask-default"], framework="fastapi")


def test_a_preset_without_a_framework_or_not_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bare.yml").write_text("database: sqlite\n")
    (tmp_path / "list.yml").write_text("- framework\n")
    with pytest.raises(ScaffoldError, match=r"preset 'bare' .* does not say which framework"):
        load_preset(tmp_path / "bare.yml")
    with pytest.raises(ScaffoldError, match=r"preset 'list': .* must hold a mapping"):
        load_preset(tmp_path / "list.yml")
