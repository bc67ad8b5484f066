"""examples/flask and examples/fastapi are what the templates render now."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from scaffold.examples import (
    ANSWERS,
    LEFT_OUT_ANSWERS,
    LEFT_OUT_FILES,
    REGENERATE_COMMAND,
    render_example,
)
from tests.conftest import FRAMEWORKS, REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
# Enough of a diff to see what changed without flooding the terminal.
MAX_DIFF_LINES = 200


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too), by relative path, with its content."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def describe_differences(
    framework: str, committed: dict[str, bytes], fresh: dict[str, bytes]
) -> list[str]:
    lines = [f"only in the render (missing from examples): {p}" for p in fresh.keys() - committed]
    lines += [f"only in examples (no longer rendered): {p}" for p in committed.keys() - fresh]
    for path in sorted(committed.keys() & fresh.keys()):
        if committed[path] == fresh[path]:
            continue
        before = committed[path].decode("utf-8", errors="replace").splitlines()
        after = fresh[path].decode("utf-8", errors="replace").splitlines()
        lines += difflib.unified_diff(
            before, after, f"examples/{framework}/{path}", f"rendered/{path}", lineterm=""
        )
    return lines


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_example_project_matches_what_the_templates_render_now(
    framework: str, tmp_path: Path
) -> None:
    committed_dir = EXAMPLES / framework
    assert committed_dir.is_dir(), f"{committed_dir} is missing; run `{REGENERATE_COMMAND}`"
    fresh = tree(render_example(framework, tmp_path / framework))
    committed = tree(committed_dir)
    differences = describe_differences(framework, committed, fresh)
    if differences:
        shown = "\n".join(differences[:MAX_DIFF_LINES])
        more = len(differences) - MAX_DIFF_LINES
        tail = f"\n... and {more} more lines" if more > 0 else ""
        pytest.fail(
            f"examples/{framework} differs from what the templates render now; "
            f"regenerate it with `{REGENERATE_COMMAND}` and commit the result.\n{shown}{tail}",
            pytrace=False,
        )


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_example_project_names_no_machine_and_holds_no_secret(framework: str) -> None:
    example = EXAMPLES / framework
    for name in LEFT_OUT_FILES:
        assert not (example / name).exists(), f"examples/{framework}/{name} holds secrets"
    answers = (example / ".copier-answers.yml").read_text(encoding="utf-8")
    for key in LEFT_OUT_ANSWERS:
        assert f"{key}:" not in answers, f"examples/{framework}/.copier-answers.yml records {key}"
    assert f"framework: {framework}" in answers
    assert f"project_name: {ANSWERS['project_name']}" in answers
    every_text = b"\n".join(tree(example).values())
    assert str(REPO_ROOT).encode() not in every_text, f"examples/{framework} names {REPO_ROOT}"
