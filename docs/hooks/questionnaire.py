"""MkDocs hook: the questionnaire reference is generated from copier.yml at every build.

docs/questionnaire.md holds the marker below; this hook replaces it with the questions as
`scaffold.questionnaire.load_questions` reads them (the same reader `scaffold questions`
uses), so the reference cannot drift from the questionnaire.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

from scaffold.questionnaire import Question, load_questions

MARKER = "<!-- questionnaire: generated from copier.yml -->"
PAGE = "questionnaire.md"


def _code(value: object) -> str:
    return f"`{value}`"


def _default(question: Question) -> str:
    shown = question.display_default
    if shown == "(derived)":
        return "derived (see below)"
    return _code(shown) if shown else "(none)"


def render(questions: list[Question]) -> str:
    lines = [
        "| question | type | default | choices |",
        "|---|---|---|---|",
    ]
    for q in questions:
        choices = ", ".join(_code(choice) for choice in q.choices) if q.has_static_choices else ""
        lines.append(f"| [`{q.name}`](#{q.name}) | `{q.type}` | {_default(q)} | {choices} |")
    for q in questions:
        lines += ["", f"## `{q.name}` {{ #{q.name} }}", "", q.help or "(no help text)", ""]
        lines.append(f"- type: `{q.type}`")
        if q.display_default == "(derived)":
            lines.append(f"- default, derived from earlier answers: `{q.default}`")
        else:
            lines.append(f"- default: {_default(q)}")
        if q.has_static_choices:
            lines.append(f"- choices: {', '.join(_code(choice) for choice in q.choices)}")
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **kwargs: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"docs/{PAGE} lost its marker {MARKER!r}")
    copier_yml = Path(config["config_file_path"]).parent / "copier.yml"
    return markdown.replace(MARKER, render(load_questions(copier_yml)))
