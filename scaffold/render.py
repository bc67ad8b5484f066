"""``new_project()``: validate, render into a staging directory, lock, move into place, git init.

Nothing is written until every check has passed, and a render that fails (or is interrupted)
half-way leaves nothing behind: copier renders into a staging directory created next to DEST
(same filesystem), and only a complete project, with its first commit, is renamed into place.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold import __version__, copier_bridge, gitrepo
from scaffold.errors import (
    DestinationError,
    Interrupted,
    NoTerminal,
    ScaffoldError,
)
from scaffold.questionnaire import check_answers, load_data_file, load_questions, parse_data_items
from scaffold.source import TemplateSource, resolve_template
from scaffold.toolenv import project_env

TEST_COMMAND = "uv run pytest"
LOCK_FILE = "uv.lock"
# `uv lock` takes a few seconds with the package index at hand; this is for an index that
# answers slowly or not at all (uv retries), after which the first `uv sync` locks instead.
LOCK_TIMEOUT = 120.0


@dataclass(frozen=True)
class NewProjectResult:
    """What ``new_project()`` produced (or, with ``pretend``, would have produced)."""

    dest: Path
    answers: Mapping[str, Any]
    template: TemplateSource
    commit: str | None = None
    pretend: bool = False
    files: tuple[str, ...] = field(default=())
    lock_problem: str | None = None
    """Why there is no ``uv.lock`` (one line), or None: there is one, or locking was not asked."""

    @property
    def slug(self) -> str:
        """The project's distribution and console-script name."""
        return str(self.answers["project_slug"])

    @property
    def framework(self) -> str:
        """``flask`` or ``fastapi``."""
        return str(self.answers["framework"])

    def setup_command(self, shown_dest: str | os.PathLike[str] | None = None) -> str:
        """The one command that sets the project up and runs it, from the current directory."""
        where = shlex.quote(str(shown_dest if shown_dest is not None else self.dest))
        return (
            f"cd {where} && python -m pip install uv && uv run alembic upgrade head"
            f" && uv run {self.slug} serve"
        )

    @property
    def test_command(self) -> str:
        """The one command that runs the project's tests (inside the project)."""
        return TEST_COMMAND


def _uv_binary() -> str | None:
    """The uv executable of the ``uv`` package scaffold depends on, else uv on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def lock_project(project: Path) -> str | None:
    """Run ``uv lock`` in a rendered project: None when it wrote ``uv.lock``, else why not in
    one line (no index reachable, most likely; the project's first ``uv sync`` locks then)."""
    uv = _uv_binary()
    if uv is None:
        return "uv is not installed"
    # Our own virtual environment is none of the project's business (toolenv.py).
    env = project_env()
    try:
        proc = subprocess.run(
            [uv, "lock", "--quiet"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=LOCK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"`uv lock` took more than {LOCK_TIMEOUT:.0f} s"
    except OSError as exc:
        return f"cannot run uv: {exc.strerror or exc}"
    if proc.returncode == 0 and (project / LOCK_FILE).is_file():
        return None
    return _lock_failure(proc.stderr) or f"`uv lock` exited {proc.returncode}"


def _lock_failure(stderr: str) -> str:
    """uv's error in one line: what failed, the URL it could not fetch and the first cause.

    uv writes the failure, then a line per cause (``error: Request failed after 3 retries``,
    ``cause: Failed to fetch: https://...``, ..., ``cause: Connection refused (os error 111)``).
    """
    prefixes = ("error:", "cause:", "Caused by:")
    parts = [
        line.strip().split(":", 1)[1].strip()
        for line in stderr.splitlines()
        if line.strip().startswith(prefixes)
    ]
    if len(parts) <= 2:
        return "; ".join(parts)
    fetch = [part for part in parts[1:-1] if part.startswith("Failed to fetch")]
    return "; ".join([parts[0], *fetch[:1], parts[-1]])


def _collect_data(
    data: Sequence[str] | Mapping[str, Any], data_file: Path | None, framework: str | None
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    if data_file is not None:
        answers.update(load_data_file(Path(data_file)))
    answers.update(data if isinstance(data, Mapping) else parse_data_items(data))
    if framework is not None:
        answers["framework"] = framework
    return answers


def check_destination(dest: Path) -> None:
    """Refuse a DEST that is a file, is a non-empty directory, or cannot be created."""
    shown = str(dest)
    if dest.is_symlink() and not dest.exists():
        raise DestinationError(f"{shown} is a dangling symlink", hint="choose another DEST")
    if dest.exists():
        if not dest.is_dir():
            raise DestinationError(
                f"{shown} exists and is a file", hint="choose a new directory name for DEST"
            )
        if any(dest.iterdir()):
            raise DestinationError(
                f"{shown} exists and is not empty",
                hint="choose a new directory name or an empty directory for DEST",
            )
    ancestor = dest.parent
    while not ancestor.exists() and not ancestor.is_symlink():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DestinationError(
            f"{shown} cannot be created: {ancestor} is not a directory", hint="choose another DEST"
        )
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise DestinationError(
            f"{shown} cannot be created: {ancestor} is not writable",
            hint="choose a DEST in a directory you can write to",
        )


def _run_copier(
    source: TemplateSource,
    dst: Path,
    data: Mapping[str, Any],
    *,
    defaults: bool,
    pretend: bool,
) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """Render with copier. Returns (answers, rendered relative paths)."""
    answers = copier_bridge.copy(
        source.src, dst, data, vcs_ref=source.vcs_ref, defaults=defaults, pretend=pretend
    )
    if pretend:
        return answers, ()
    files = tuple(sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if p.is_file()))
    return answers, files


def new_project(
    dest: str | os.PathLike[str],
    *,
    framework: str | None = None,
    data: Sequence[str] | Mapping[str, Any] = (),
    data_file: str | os.PathLike[str] | None = None,
    defaults: bool = False,
    template: str | None = None,
    vcs_ref: str | None = None,
    git: bool = True,
    lock: bool = True,
    pretend: bool = False,
    interactive: bool = False,
) -> NewProjectResult:
    """Generate a new project at ``dest``.

    ``data`` is either a mapping of answers or ``KEY=VALUE`` strings; ``data_file`` a YAML
    mapping of answers (``data`` wins over it, ``framework`` over both). Without
    ``defaults`` the questions are asked, which needs ``interactive`` (a terminal).
    With ``lock``, ``uv lock`` writes ``uv.lock`` (in the first commit); when it cannot (no
    package index), ``lock_problem`` says why and the project is made all the same.
    Raises a :class:`ScaffoldError` subclass for every problem the user can fix.
    """
    answers = _collect_data(data, Path(data_file) if data_file is not None else None, framework)
    source = resolve_template(template, vcs_ref)
    if source.config_file is not None:
        check_answers(answers, load_questions(source.config_file))
    target = Path(dest).expanduser().absolute()
    check_destination(target)
    if not defaults and not interactive:
        raise NoTerminal(
            "no terminal to ask the questions on",
            hint="pass --defaults (and --data KEY=VALUE for any answer you want to set)",
        )

    if pretend:
        try:
            recorded, _ = _run_copier(source, target, answers, defaults=defaults, pretend=True)
        except KeyboardInterrupt:
            raise Interrupted("interrupted; nothing was written") from None
        return NewProjectResult(target, recorded, source, pretend=True)

    # Create missing parents now, and remember the topmost one to remove it on failure.
    created_root: Path | None = None
    missing = [p for p in target.parents if not p.exists()]
    if missing:
        created_root = missing[-1]
        target.parent.mkdir(parents=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".scaffold", dir=target.parent)
    )
    try:
        # Render into staging/<name> so that defaults derived from the folder name are right.
        work = staging / target.name
        recorded, files = _run_copier(source, work, answers, defaults=defaults, pretend=False)
        lock_problem = lock_project(work) if lock else None
        if lock and lock_problem is None:
            files = tuple(sorted((*files, LOCK_FILE)))
        commit = None
        if git:
            message = f"Initial commit: {recorded.get('framework')} project, scaffold {__version__}"
            commit = gitrepo.init_and_commit(work, message)
        work.replace(target)
        staging.rmdir()
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if created_root is not None:
            shutil.rmtree(created_root, ignore_errors=True)
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted("interrupted; nothing was written") from None
        if isinstance(exc, OSError) and not isinstance(exc, ScaffoldError):
            raise DestinationError(
                f"cannot write {target}: {exc.strerror or exc}", hint="check DEST and try again"
            ) from exc
        raise
    return NewProjectResult(
        target, recorded, source, commit=commit, files=files, lock_problem=lock_problem
    )
