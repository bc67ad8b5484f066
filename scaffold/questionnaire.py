"""The questionnaire: read ``copier.yml`` and check answers given on the command line.

copier itself validates every answer while rendering (the validators live in
``copier.yml``); what is checked here is what copier silently accepts or reports late:
unknown keys, malformed ``--data``, a ``--data-file`` that is not a mapping, and values
outside a fixed list of choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scaffold.errors import InvalidAnswer, ScaffoldError, TemplateNotFound

BOOL_WORDS = frozenset({"true", "false", "yes", "no", "y", "n", "on", "off", "1", "0"})


@dataclass(frozen=True)
class Question:
    """One question of the questionnaire, as written in ``copier.yml``."""

    name: str
    type: str
    default: Any
    choices: tuple[Any, ...]
    """The accepted values (for a mapping of label -> value, the values)."""
    help: str

    @property
    def display_default(self) -> str:
        """The default as a user would type it; ``(derived)`` for a Jinja expression."""
        if self.default is None:
            return ""
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        if isinstance(self.default, str) and ("{{" in self.default or "{%" in self.default):
            return "(derived)"
        return str(self.default)

    @property
    def has_static_choices(self) -> bool:
        """True when the choices are plain values (not Jinja expressions)."""
        return bool(self.choices) and not any(
            isinstance(choice, str) and "{{" in choice for choice in self.choices
        )


def _choice_values(raw: Any) -> tuple[Any, ...]:
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        return tuple(
            value.get("value") if isinstance(value, Mapping) else value for value in raw.values()
        )
    if isinstance(raw, list):
        return tuple(
            item[1] if isinstance(item, list | tuple) and len(item) == 2 else item for item in raw
        )
    return ()


def _infer_type(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, list | dict):
        return "yaml"
    return "str"


def load_questions(config_file: Path) -> list[Question]:
    """The questions of a copier config file, in file order."""
    try:
        text = config_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateNotFound(f"cannot read {config_file}: {exc.strerror}") from exc
    return parse_questions(text, str(config_file))


def template_questions(template: str | None = None) -> list[Question]:
    """The questionnaire of ``template`` (default: the one scaffold renders), which must be
    local: a remote template's questions are only known once copier has cloned it."""
    from scaffold.source import resolve_template

    config = resolve_template(template).config_file
    if config is None:
        raise ScaffoldError(
            "`scaffold questions` reads a local template only",
            hint="clone the template and pass its directory to --template",
        )
    return load_questions(config)


def frameworks(config_file: Path) -> tuple[str, ...]:
    """The frameworks the template renders: the choices of its ``framework`` question (the
    one list of them; everything else reads it from here)."""
    for question in load_questions(config_file):
        if question.name == "framework":
            return tuple(str(choice) for choice in question.choices)
    raise TemplateNotFound(f"{config_file} has no `framework` question")


def parse_questions(text: str, origin: str) -> list[Question]:
    """The questions of copier config ``text`` (read from ``origin``), in file order."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateNotFound(
            f"{origin} is not valid YAML: {exc}", hint="fix the template's copier.yml"
        ) from exc
    if not isinstance(raw, Mapping):
        raise TemplateNotFound(f"{origin} is not a mapping of questions")
    questions = []
    for name, spec in raw.items():
        if not isinstance(name, str) or name.startswith("_"):
            continue
        if isinstance(spec, Mapping) and spec.get("when") is False:
            continue  # a computed value, never asked (copier.yml's `example_item`)
        if isinstance(spec, Mapping):
            default = spec.get("default")
            qtype = str(spec.get("type") or _infer_type(default))
            help_text = " ".join(str(spec.get("help") or "").split())
            choices = _choice_values(spec.get("choices"))
        else:  # short form `name: default`
            default, qtype, help_text, choices = spec, _infer_type(spec), "", ()
        questions.append(Question(name, qtype, default, choices, help_text))
    return questions


def parse_data_items(items: Iterable[str]) -> dict[str, str]:
    """Parse repeated ``--data KEY=VALUE`` options; later ones win."""
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidAnswer(
                f"--data {item!r} is not KEY=VALUE", hint="write it like --data database=postgresql"
            )
        data[key] = value
    return data


def load_data_file(path: Path) -> dict[str, Any]:
    """Answers from a YAML file that holds a mapping of question -> answer."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidAnswer(
            f"--data-file {str(path)!r} does not exist", hint="pass an existing YAML file"
        ) from exc
    except OSError as exc:
        raise InvalidAnswer(f"--data-file {str(path)!r} cannot be read: {exc.strerror}") from exc
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise InvalidAnswer(
            f"--data-file {str(path)!r} is not valid YAML{line}",
            hint="write one 'question: answer' per line",
        ) from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping) or not all(isinstance(key, str) for key in loaded):
        raise InvalidAnswer(
            f"--data-file {str(path)!r} must hold a mapping of question: answer",
            hint="write one 'question: answer' per line",
        )
    return dict(loaded)


def check_answers(data: Mapping[str, Any], questions: Iterable[Question]) -> None:
    """Refuse unknown keys and values outside a fixed list of choices."""
    by_name = {question.name: question for question in questions}
    unknown = sorted(key for key in data if key not in by_name)
    if unknown:
        known = ", ".join(by_name)
        raise InvalidAnswer(
            f"unknown question {', '.join(map(repr, unknown))}",
            hint=f"known questions: {known} (see `scaffold questions`)",
        )
    for key, value in data.items():
        question = by_name[key]
        if question.type == "bool":
            if not isinstance(value, bool) and str(value).strip().lower() not in BOOL_WORDS:
                raise InvalidAnswer(
                    f"{key} {str(value)!r} is not a yes/no answer",
                    hint=f"pass --data {key}=true or --data {key}=false",
                )
            continue
        if not question.has_static_choices:
            continue
        accepted = [str(choice) for choice in question.choices]
        if str(value) not in accepted:
            raise InvalidAnswer(
                f"{key} {str(value)!r} is not one of {', '.join(accepted)}",
                hint=f"pass one of them, e.g. --data {key}={accepted[0]}",
            )
