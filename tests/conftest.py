"""Fixtures and helpers shared by scaffold's own tests."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaffold.presets import list_presets
from scaffold.questionnaire import frameworks, load_questions

REPO_ROOT = Path(__file__).resolve().parent.parent
COPIER_YML = REPO_ROOT / "copier.yml"
# Every framework the template renders: copier.yml's `framework` choices, read once.
FRAMEWORKS = frameworks(COPIER_YML)

PRESETS_DIR = REPO_ROOT / "examples" / "presets"

Snapshot = dict[str, tuple[str, int, str]]


def preset_answers() -> dict[str, dict[str, Any]]:
    """The answer presets (examples/presets) by name: what the render tests and the
    static-check tests render (test_presets checks they use every choice per framework)."""
    return {preset.name: dict(preset.answers) for preset in list_presets(PRESETS_DIR)}


def with_defaults(answers: Mapping[str, Any]) -> dict[str, Any]:
    """``answers`` completed with copier.yml's defaults (a derived default stays a Jinja string)."""
    defaults = {question.name: question.default for question in load_questions(COPIER_YML)}
    return {**defaults, **answers}


def pytest_configure(config: pytest.Config) -> None:
    """Point pytest-copie's ``--template`` at this repository wherever pytest runs from."""
    template = Path(getattr(config.option, "template", None) or ".")
    if not (template / "copier.yml").is_file():
        config.option.template = str(REPO_ROOT)


def snapshot(root: Path) -> Snapshot:
    """Every path under ``root`` (hidden ones too) with its kind, size and mode."""
    result: Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            kind = "dir" if stat.S_ISDIR(info.st_mode) else "file"
            size = 0 if kind == "dir" else info.st_size
            result[str(path.relative_to(root))] = (kind, size, oct(info.st_mode))
    return result


def copier_questions() -> list[str]:
    """The question names in copier.yml, read independently of scaffold's own code (not its
    computed values, `when: false`: never asked or recorded)."""
    data = yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))
    return [
        key
        for key, spec in data.items()
        if not key.startswith("_") and not (isinstance(spec, dict) and spec.get("when") is False)
    ]


@pytest.fixture(autouse=True)
def _stand_in_uv_lock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`scaffold new` runs `uv lock` (seconds, and the package index, per project): tests that
    are not about the lock, and install nothing, get a stand-in uv.lock. Those marked
    `uv_lock`, and the suites that install the projects, run the real one."""
    real = ("uv_lock", "smoke", "packaging", "contract", "browser")
    if any(request.node.get_closest_marker(name) for name in real):
        return

    def stand_in(project: Path) -> None:
        (project / "uv.lock").write_text("# a stand-in for uv.lock (tests/conftest.py)\n")

    monkeypatch.setattr("scaffold.render.lock_project", stand_in)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory for a CLI run."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def no_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """git with no user.name / user.email anywhere (HOME is an empty temporary directory)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    for name in (
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
        "GIT_CONFIG_SYSTEM",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@dataclass(frozen=True)
class Rendered:
    project: Path
    answers: dict[str, Any]


def cached_renderer(
    copie_session: Any, presets: Mapping[str, Mapping[str, Any]]
) -> Callable[[str], Rendered]:
    """Render a named preset with pytest-copie once per session; later calls reuse it."""
    cache: dict[str, Rendered] = {}

    def _render(preset: str) -> Rendered:
        if preset not in cache:
            result = copie_session.copy(extra_answers=dict(presets[preset]))
            assert result.exception is None, f"{preset}: {result.exception!r}"
            assert result.exit_code == 0
            assert result.project_dir is not None
            cache[preset] = Rendered(Path(result.project_dir), dict(result.answers))
        return cache[preset]

    return _render
