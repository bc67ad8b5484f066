"""Answer presets: named YAML answer files, rendered by `scaffold smoke`, the tests and CI.

They live in ``examples/presets/`` of the repository; the wheel carries a copy as
``scaffold/_presets/`` (see pyproject.toml), so an installed scaffold has them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import InvalidAnswer, ScaffoldError, UnknownPreset, one_line
from scaffold.questionnaire import Question, check_answers, load_data_file
from scaffold.source import PACKAGE_DIR

RESOURCES_DIR = "resources"
CHECKOUT_PRESETS = PACKAGE_DIR.parent / "examples" / "presets"
PACKAGED_PRESETS = PACKAGE_DIR / "_presets"


@dataclass(frozen=True)
class Preset:
    """One answer file: its name (the file name without ``.yml``) and its answers."""

    name: str
    path: Path
    answers: Mapping[str, Any]
    resources: tuple[str, ...] = ()
    """Resources ``scaffold smoke`` adds after the render (``resources/<name>.yml`` beside the
    preset, a list): each ``NAME FIELD...``, as ``scaffold add resource NAME --field FIELD...``."""

    @property
    def framework(self) -> str:
        """``flask`` or ``fastapi`` (every preset names its framework)."""
        return str(self.answers["framework"])


def presets_dir() -> Path:
    """The repository's ``examples/presets`` when run from a checkout, else the packaged copy."""
    return CHECKOUT_PRESETS if CHECKOUT_PRESETS.is_dir() else PACKAGED_PRESETS


def load_preset(path: Path) -> Preset:
    """Read one preset; it must be a mapping of answers that names its framework."""
    try:
        answers = load_data_file(path)
    except InvalidAnswer as exc:
        # load_data_file words its errors for --data-file; say which preset is broken.
        raise ScaffoldError(f"preset {path.stem!r}: {exc.message}") from exc
    resources = _resources(path)
    if "framework" not in answers:
        raise ScaffoldError(
            f"preset {path.stem!r} ({path}) does not say which framework it is for",
            hint="add `framework: flask` or `framework: fastapi` to it",
        )
    return Preset(path.stem, path, answers, tuple(resources))


def _resources(preset: Path) -> list[str]:
    """The resources to add to ``preset``'s project: ``resources/<name>.yml`` beside it."""
    path = preset.parent / RESOURCES_DIR / preset.name
    if not path.is_file():
        return []
    try:
        lines = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ScaffoldError(f"{path} cannot be read as YAML: {one_line(exc)}") from exc
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise ScaffoldError(f"{path} is not a list of `NAME FIELD...` lines")
    return lines


def list_presets(directory: Path | None = None) -> list[Preset]:
    """Every preset in ``directory`` (default: :func:`presets_dir`), sorted by name."""
    root = directory if directory is not None else presets_dir()
    return [load_preset(path) for path in sorted(root.glob("*.yml"))]


def validate_presets(presets: Iterable[Preset], questions: Sequence[Question]) -> None:
    """Refuse a preset with an unknown question or a value outside its choices."""
    for preset in presets:
        try:
            check_answers(preset.answers, questions)
        except InvalidAnswer as exc:
            raise InvalidAnswer(f"preset {preset.name!r}: {exc.user_message}") from exc


def select_presets(
    names: Sequence[str] = (), framework: str | None = None, directory: Path | None = None
) -> list[Preset]:
    """The presets called ``names`` (all when empty), restricted to ``framework`` if given."""
    available = list_presets(directory)
    by_name = {preset.name: preset for preset in available}
    if not available:
        raise UnknownPreset(f"there are no presets in {directory or presets_dir()}")
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise UnknownPreset(
            f"unknown preset {', '.join(map(repr, unknown))}",
            hint=f"available presets: {', '.join(by_name)}",
        )
    chosen = [by_name[name] for name in dict.fromkeys(names)] if names else available
    if framework is None:
        return chosen
    frameworks = sorted({preset.framework for preset in available})
    if framework not in frameworks:
        raise InvalidAnswer(
            f"--framework {framework!r} is not one of {', '.join(frameworks)}",
            hint=f"pass e.g. --framework {frameworks[0]}",
        )
    other = [preset.name for preset in chosen if preset.framework != framework]
    if names and other:
        raise UnknownPreset(
            f"preset {', '.join(map(repr, other))} is not a {framework} preset",
            hint="drop --framework or that --preset",
        )
    return [preset for preset in chosen if preset.framework == framework]
