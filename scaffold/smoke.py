"""``run_smoke()``: render answer presets and run each generated project's own checks.

Each preset is rendered, installed with ``uv sync`` and checked with the
commands its own CI runs (lint, format, types, migrations, tests). The steps are data
(:data:`STEPS`); every step runs unless a step it needs failed, so one report shows all that
is wrong. A PostgreSQL preset gets a fresh database on the server named by
``SCAFFOLD_SMOKE_POSTGRES_URL``, dropped afterwards whatever happened.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from scaffold.errors import InvalidAnswer, MissingTool, ScaffoldError, one_line
from scaffold.presets import Preset, select_presets, validate_presets
from scaffold.render import LOCK_FILE
from scaffold.services import preset_services, project_services
from scaffold.toolenv import project_env

POSTGRES_URL_VAR = "SCAFFOLD_SMOKE_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL_VAR = "SCAFFOLD_SMOKE_REDIS_URL"
TAIL_LINES = 40
STEP_TIMEOUT = 1800.0
RENDER, DATABASE, DROP_DATABASE = "render", "database", "drop database"
RESOURCES = "add resources"
Status = Literal["passed", "failed", "skipped"]
# copier renders with the process's working directory changed (plumbum's local.cwd): one at a time.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Step:
    """One command run in every preset's project: ``uv <args>`` in the project's directory."""

    name: str
    args: tuple[str, ...]
    needs: tuple[str, ...] = ("install",)
    """Steps that must have passed first; one this preset does not have (``database`` for
    SQLite) counts as passed."""
    locked: bool = False
    """Add ``--locked`` when the project has a ``uv.lock``: install exactly it, as the
    project's CI and Dockerfile do (a lock that no longer matches pyproject.toml fails)."""

    def command(self, uv: str, project: Path) -> list[str]:
        locked = self.locked and (project / LOCK_FILE).is_file()
        return [uv, *self.args, *(("--locked",) if locked else ())]


STEPS: tuple[Step, ...] = (
    Step("install", ("sync",), needs=(), locked=True),
    Step("lint", ("run", "ruff", "check")),
    Step("format", ("run", "ruff", "format", "--check")),
    Step("types", ("run", "mypy")),
    Step("migrate", ("run", "alembic", "upgrade", "head"), needs=("install", DATABASE)),
    Step("migrations check", ("run", "alembic", "check"), needs=("migrate",)),
    # The projects' pytest configuration fails the run below 90% coverage.
    Step("tests", ("run", "pytest"), needs=("install", DATABASE)),
)


@dataclass(frozen=True)
class CommandResult:
    """A finished command: exit code (None if it timed out) and its merged output."""

    returncode: int | None
    output: str


Runner = Callable[[Sequence[str], Path, Mapping[str, str], float], CommandResult]


def run_command(
    cmd: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> CommandResult:
    """Run ``cmd`` with stdout and stderr captured together."""
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            timeout=timeout, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        # run() hands over what was read before the kill, as bytes even in text mode
        raw = exc.output or b""
        output = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        return CommandResult(None, f"{output}\ntimed out after {timeout:.0f} s")
    return CommandResult(proc.returncode, proc.stdout)


@dataclass(frozen=True)
class StepResult:
    """One row of the report."""

    preset: str
    step: str
    status: Status
    seconds: float = 0.0
    detail: str = ""
    """One line: why it failed or was skipped."""
    output_tail: str = ""
    """The last lines of a failed command's output."""


@dataclass
class PresetReport:
    """Every step of one preset, in the order they ran."""

    preset: Preset
    project: Path | None = None
    results: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.status == "passed" for result in self.results)

    @property
    def seconds(self) -> float:
        return sum(result.seconds for result in self.results)


@dataclass
class SmokeReport:
    """What ``run_smoke()`` found: every preset's steps, and where the projects were kept."""

    presets: list[PresetReport]
    kept_in: Path | None = None
    jobs: int = 1
    """How many presets ran at once."""
    wall_seconds: float = 0.0
    """From the first render to the last step: less than :attr:`seconds` with ``jobs`` > 1."""

    @property
    def ok(self) -> bool:
        return all(run.ok for run in self.presets)

    @property
    def results(self) -> list[StepResult]:
        return [result for run in self.presets for result in run.results]

    @property
    def failures(self) -> list[StepResult]:
        return [result for result in self.results if result.status == "failed"]

    @property
    def seconds(self) -> float:
        return sum(run.seconds for run in self.presets)


Progress = Callable[[str, str, StepResult | None], None]
"""Called with (preset, step, None) when a step starts and with its result when it ends."""


def default_jobs() -> int:
    """How many presets ``run_smoke`` runs at once by default: one per CPU."""
    return os.cpu_count() or 1


def list_smoke_presets(
    presets: Sequence[str] = (), *, framework: str | None = None
) -> list[dict[str, object]]:
    """The chosen presets (all by default) as CI matrix entries: name, framework, and for
    each server smoke can provide (PostgreSQL, Redis) whether the project's checks need it
    (read from what the preset renders: :mod:`scaffold.services`)."""
    entries: list[dict[str, object]] = []
    for preset in select_presets(presets, framework):
        needs = preset_services(preset)
        entries.append(
            {"name": preset.name, "framework": preset.framework}
            | {service: bool(settings) for service, settings in needs.items()}
        )
    return entries


def _tail(output: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(output.rstrip().splitlines()[-lines:])


def uv_binary() -> str:
    """The uv executable of the ``uv`` package scaffold depends on."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError) as exc:
        raise MissingTool(
            "`scaffold smoke` needs uv", hint="install it: python -m pip install uv"
        ) from exc


# --- PostgreSQL: a database per preset -------------------------------------------------------


def _server_label(server_url: str) -> str:
    parts = urlsplit(server_url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg://`` (SQLAlchemy's spelling) as libpq wants it."""
    return re.sub(r"^postgres(ql)?\+\w+://", "postgresql://", url)


def _database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def _admin(server_url: str, statement: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    query = sql.SQL(statement).format(sql.Identifier(name))
    with psycopg.connect(_libpq_url(server_url), autocommit=True, connect_timeout=10) as conn:
        conn.execute(query)


def _postgres_problem(server_url: str, exc: Exception, name: str) -> str:
    import psycopg

    where = f"PostgreSQL at {_server_label(server_url)}"
    if isinstance(exc, psycopg.OperationalError):  # what connecting raises
        return (
            f"{where} is unreachable ({one_line(exc)}); "
            f"start it or point {POSTGRES_URL_VAR} at a server"
        )
    return f"{where} refused to create database {name}: {one_line(exc)}"


def require_psycopg(presets: Sequence[Preset]) -> None:
    """Projects that need PostgreSQL need psycopg to create and drop their database.

    Without it, refuse before anything is written if one of ``presets`` needs PostgreSQL:
    a look at their ``.env.example`` costs a render each, so it is only taken then (with
    psycopg, each rendered project says what it needs itself).
    """
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        if any(preset_services(preset)["postgresql"] for preset in presets):
            raise MissingTool(
                "the PostgreSQL presets need psycopg to create their database",
                hint="install it: python -m pip install 'scaffold[smoke]'",
            ) from exc


# --- running one preset ----------------------------------------------------------------------


@dataclass
class _PresetRun:
    report: PresetReport
    runner: Runner
    on_progress: Progress
    timeout: float

    def record(self, result: StepResult) -> StepResult:
        self.report.results.append(result)
        self.on_progress(result.preset, result.step, result)
        return result

    def blocked_by(self, needs: Sequence[str]) -> str | None:
        status = {result.step: result.status for result in self.report.results}
        for need in (RENDER, *needs):
            if status.get(need, "passed") != "passed":
                return need
        return None

    @contextmanager
    def timed(self, step: str) -> Iterator[Callable[..., StepResult]]:
        """Report the start of ``step``; yield a function that records its result."""
        self.on_progress(self.report.preset.name, step, None)
        started = time.monotonic()

        def finish(status: Status, detail: str = "", output_tail: str = "") -> StepResult:
            seconds = time.monotonic() - started
            name = self.report.preset.name
            return self.record(StepResult(name, step, status, seconds, detail, output_tail))

        yield finish

    def run_step(self, step: Step, uv: str, project: Path, env: Mapping[str, str]) -> None:
        blocker = self.blocked_by(step.needs)
        if blocker is not None:
            name = self.report.preset.name
            self.record(StepResult(name, step.name, "skipped", detail=f"{blocker} failed"))
            return
        cmd = step.command(uv, project)
        with self.timed(step.name) as finish:
            result = self.runner(cmd, project, env, self.timeout)
            if result.returncode == 0:
                finish("passed")
            else:
                why = "timed out" if result.returncode is None else f"exit {result.returncode}"
                shown = " ".join(["uv", *cmd[1:]])
                finish("failed", f"`{shown}` {why}", _tail(result.output))


def _run_preset(
    run: _PresetRun,
    root: Path,
    steps: Sequence[Step],
    uv: str,
    env: Mapping[str, str],
    postgres_url: str,
    redis_url: str,
) -> None:
    from scaffold.render import new_project
    from scaffold.resource import add_resource

    preset = run.report.preset
    project = root / preset.name
    with _RENDER_LOCK, run.timed(RENDER) as finish:
        try:
            # git: `scaffold add resource` adds to a committed project only.
            git = bool(preset.resources)
            new_project(project, data=dict(preset.answers), defaults=True, git=git)
        except ScaffoldError as exc:
            finish("failed", exc.user_message)
        except Exception as exc:  # a template bug is what the smoke run is there to report
            finish("failed", one_line(exc), _tail(traceback.format_exc()))
        else:
            run.report.project = project
            finish("passed")
    if run.report.project is not None and preset.resources:
        with _RENDER_LOCK, run.timed(RESOURCES) as finish:
            try:
                for line in preset.resources:
                    name, *fields = line.split()
                    add_resource(name, fields=fields, project=project)
            except ScaffoldError as exc:
                finish("failed", exc.user_message)
                run.report.project = None
            except Exception as exc:  # a template bug, as above
                finish("failed", one_line(exc), _tail(traceback.format_exc()))
                run.report.project = None
            else:
                finish("passed", f"{len(preset.resources)} resources")
    if run.report.project is None:
        for step in steps:  # each is reported as skipped: it needs the project
            run.run_step(step, uv, project, env)
        return

    # The servers the project's settings name (its .env.example): smoke provides them.
    needs = project_services(project)
    project_env = dict(env)
    if redis_url:
        project_env.update(dict.fromkeys(needs["redis"], redis_url))
    database: str | None = None
    try:
        if needs["postgresql"]:
            import psycopg  # checked by run_smoke(); imported late: `scaffold --help` stays fast

            with run.timed(DATABASE) as finish:
                name = f"smoke_{preset.name.replace('-', '_')[:40]}_{uuid.uuid4().hex[:8]}"
                try:
                    _admin(postgres_url, "CREATE DATABASE {}", name)
                except psycopg.Error as exc:  # unreachable, refused, no rights
                    finish("failed", _postgres_problem(postgres_url, exc, name))
                else:
                    database = name
                    url = _database_url(postgres_url, name)
                    # The generated tests read their database from TEST_<setting>.
                    for setting in needs["postgresql"]:
                        project_env.update({setting: url, f"TEST_{setting}": url})
                    finish("passed", name)
        for step in steps:
            run.run_step(step, uv, project, project_env)
    finally:
        if database is not None:
            with run.timed(DROP_DATABASE) as finish:
                try:
                    _admin(postgres_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", database)
                except psycopg.Error as exc:
                    finish("failed", f"could not drop {database}: {' '.join(str(exc).split())}")
                else:
                    finish("passed", database)


def run_smoke(
    presets: Sequence[str] = (),
    *,
    framework: str | None = None,
    keep: str | os.PathLike[str] | None = None,
    steps: Sequence[Step] | None = None,
    runner: Runner | None = None,
    on_progress: Progress | None = None,
    postgres_url: str | None = None,
    redis_url: str | None = None,
    timeout: float = STEP_TIMEOUT,
    jobs: int | None = None,
) -> SmokeReport:
    """Render the chosen presets (all by default) and run ``steps`` in each project.

    Everything is checked before anything is written: the preset names, ``framework``, the
    presets' answers, ``keep`` (its ``<preset>`` subdirectories must be new or empty) and the
    tools. Without ``keep`` the projects live in a temporary directory, removed at the end.
    ``steps`` defaults to :data:`STEPS` and ``runner`` to :func:`run_command` (looked up at
    call time, so tests can replace them).

    ``jobs`` presets run at once (default: :func:`default_jobs`), each in a thread that waits
    on its project's commands; renders take turns (copier changes the working directory), and
    ``on_progress`` is then called from those threads. The report keeps the presets' order.
    """
    from scaffold.questionnaire import load_questions
    from scaffold.render import check_destination
    from scaffold.source import resolve_template

    chosen = select_presets(presets, framework)
    config = resolve_template().config_file
    if config is not None:
        validate_presets(chosen, load_questions(config))
    keep_dir = Path(keep).expanduser().absolute() if keep is not None else None
    if keep_dir is not None:
        for preset in chosen:
            check_destination(keep_dir / preset.name)
    uv = uv_binary()
    require_psycopg(chosen)
    workers = default_jobs() if jobs is None else jobs
    if workers < 1:
        raise InvalidAnswer(f"--jobs must be 1 or more, not {workers}", hint="e.g. --jobs 2")

    env = project_env()
    redis = redis_url if redis_url is not None else os.environ.get(REDIS_URL_VAR)
    postgres = postgres_url or os.environ.get(POSTGRES_URL_VAR) or DEFAULT_POSTGRES_URL
    progress = on_progress or (lambda _preset, _step, _result: None)
    root = keep_dir or Path(tempfile.mkdtemp(prefix="scaffold-smoke-"))
    report = SmokeReport([], kept_in=keep_dir, jobs=min(workers, len(chosen)))
    started = time.monotonic()
    chosen_steps = STEPS if steps is None else steps

    def run_one(run: _PresetRun) -> None:
        _run_preset(run, root, chosen_steps, uv, env, postgres, redis or "")

    runs = [
        _PresetRun(PresetReport(preset), runner or run_command, progress, timeout)
        for preset in chosen
    ]
    report.presets.extend(run.report for run in runs)  # the presets' order
    try:
        if workers == 1 or len(runs) == 1:
            for run in runs:
                run_one(run)
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smoke") as pool:
                for future in [pool.submit(run_one, run) for run in runs]:
                    future.result()
    finally:
        report.wall_seconds = time.monotonic() - started
        if keep_dir is None:
            shutil.rmtree(root, ignore_errors=True)
    return report
