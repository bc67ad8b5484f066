"""The rendered example projects, ``examples/flask/`` and ``examples/fastapi/``.

Both are rendered from the template as it is in this checkout (uncommitted changes
included), with the default answers and ``project_name: Example``. Regenerate them with::

    python -m scaffold.examples

``tests/test_examples.py`` renders them again into a temporary directory and fails when the
committed copies differ. Three things are left out so that the copies carry nothing of the
machine or the moment that rendered them:

- ``.env``: it holds the project's freshly generated secrets (a new ``SECRET_KEY`` at every
  render); ``.env.example`` next to it shows what goes in it.
- ``uv.lock``: it pins the newest versions on the package index at the moment of the render
  (``lock=False``: not made at all).
- ``_src_path`` and ``_commit`` in ``.copier-answers.yml``: the template's path on the
  rendering machine and the commit it was at. To update a copy of an example with
  ``scaffold update``, add them back (see README.md, "Updating a project").
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scaffold.copier_bridge import ANSWERS_FILE
from scaffold.errors import ScaffoldError, TemplateNotFound
from scaffold.questionnaire import frameworks
from scaffold.render import new_project
from scaffold.source import checkout_root

ANSWERS = {"project_name": "Example"}
REGENERATE_COMMAND = "python -m scaffold.examples"
LEFT_OUT_FILES = (".env",)
LEFT_OUT_ANSWERS = ("_src_path", "_commit")


def examples_dir() -> Path:
    """``examples/`` of the checkout this package runs from."""
    root = checkout_root()
    if root is None:
        raise TemplateNotFound(
            "the examples live in a git checkout of scaffold, and this one is installed",
            hint=f"run `{REGENERATE_COMMAND}` from a checkout (pip install -e .)",
        )
    return root / "examples"


def render_example(framework: str, dest: Path) -> Path:
    """Render the example project of ``framework`` into ``dest`` (which must not exist)."""
    new_project(dest, framework=framework, data=ANSWERS, defaults=True, git=False, lock=False)
    for name in LEFT_OUT_FILES:
        (dest / name).unlink(missing_ok=True)
    answers = dest / ANSWERS_FILE
    kept = [
        line
        for line in answers.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith(tuple(f"{key}:" for key in LEFT_OUT_ANSWERS))
    ]
    answers.write_text("".join(kept), encoding="utf-8")
    return dest


def regenerate(target: Path | None = None) -> list[Path]:
    """Render every framework's example afresh into ``target`` (default: ``examples/``)."""
    target = target if target is not None else examples_dir()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    # One example per choice of copier.yml's `framework` question.
    for framework in frameworks(examples_dir().parent / "copier.yml"):
        # Rendered beside the old copy, then swapped in: a failed render keeps the old one.
        with tempfile.TemporaryDirectory(prefix=f".{framework}.", dir=target) as staging:
            fresh = render_example(framework, Path(staging) / framework)
            dest = target / framework
            shutil.rmtree(dest, ignore_errors=True)
            fresh.replace(dest)
        written.append(dest)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        print(f"usage: {REGENERATE_COMMAND}  (takes no arguments)", file=sys.stderr)
        return 2
    try:
        written = regenerate()
    except ScaffoldError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return exc.exit_code
    for path in written:
        print(f"rendered {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
