"""`scaffold smoke` with the projects' commands replaced by a recording fake: the report, the
exit code, --keep, bad input, and the per-preset PostgreSQL database (real server)."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from typer.testing import Result

from scaffold import smoke
from scaffold.errors import UnknownPreset
from scaffold.presets import list_presets
from scaffold.smoke import STEPS, CommandResult, Step, run_smoke
from tests import helpers
from tests.conftest import snapshot
from tests.helpers import assert_one_error_line

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"
TINY_STEPS = (
    Step("install", ("sync",), needs=()),
    Step("lint", ("run", "ruff", "check")),
    Step("migrate", ("run", "alembic", "upgrade", "head"), needs=("install", "database")),
    Step("tests", ("run", "pytest"), needs=("install", "database")),
)


@dataclass
class Call:
    args: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    project_files: bool


@dataclass
class FakeRunner:
    """Records each command; fails the ones whose ``uv`` arguments are in ``fail``."""

    fail: Mapping[tuple[str, ...], str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    databases: list[bool] = field(default_factory=list)

    def __call__(
        self, cmd: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandResult:
        args = tuple(cmd[1:])
        self.calls.append(Call(args, cwd, dict(env), (cwd / "pyproject.toml").is_file()))
        if "DATABASE_URL" in env:
            self.databases.append(database_exists(env["DATABASE_URL"].rsplit("/", 1)[1]))
        if args in self.fail:
            return CommandResult(1, f"line 1\n{self.fail[args]}\n")
        return CommandResult(0, "ok\n")

    def step_args(self) -> list[tuple[str, ...]]:
        return [call.args for call in self.calls]


def database_exists(name: str) -> bool:
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> FakeRunner:
    fake = FakeRunner()
    monkeypatch.setattr(smoke, "run_command", fake)
    monkeypatch.setattr(smoke, "STEPS", TINY_STEPS)
    return fake


def invoke(*args: str) -> Result:
    return helpers.invoke("smoke", *args)


def rows(output: str) -> list[tuple[str, str, str]]:
    """(preset, step, result) of each table row."""
    found = re.findall(r"[│|] (\S+) +[│|] ([a-z ]+?) +[│|] (passed|failed|skipped) ", output)
    return [(preset, step, status) for preset, step, status in found]


# --- the CLI -----------------------------------------------------------------------------------


def test_all_steps_pass_prints_the_table_and_exits_0(fake: FakeRunner) -> None:
    result = invoke("--preset", "flask-default")

    assert result.exit_code == 0, result.output
    assert rows(result.stdout) == [
        ("flask-default", step, "passed")
        for step in ("render", "install", "lint", "migrate", "tests")
    ]
    assert "1 preset, 0 failed" in result.stdout
    # live progress on stderr, one line when each step starts and one when it ends
    assert "flask-default: tests..." in result.stderr
    assert re.search(r"flask-default: tests passed \(\d+\.\d s\)", result.stderr)
    # each command ran in the rendered project, with no interpreter downloads
    assert fake.step_args() == [step.args for step in TINY_STEPS]
    assert all(call.project_files for call in fake.calls)
    assert {call.env["UV_PYTHON_DOWNLOADS"] for call in fake.calls} == {"never"}
    # without --keep the projects are removed at the end
    assert not fake.calls[0].cwd.exists()


def test_a_failing_step_fails_the_run_shows_its_output_and_the_rest_still_run(
    fake: FakeRunner,
) -> None:
    fake.fail = {("run", "ruff", "check"): "E501 line too long"}

    result = invoke("--framework", "fastapi", "--preset", "fastapi-default")

    assert result.exit_code == 1, result.output
    assert ("fastapi-default", "lint", "failed") in rows(result.stdout)
    assert ("fastapi-default", "tests", "passed") in rows(result.stdout)
    assert "E501 line too long" in result.stdout  # the tail of its output
    assert "FAILED fastapi-default: lint: `uv run ruff check` exit 1" in result.stdout
    assert "1 failed (fastapi-default)" in result.stdout
    assert "Traceback" not in result.output


def test_a_failed_install_skips_the_steps_that_need_it(fake: FakeRunner) -> None:
    fake.fail = {("sync",): "No solution found when resolving dependencies"}

    result = invoke("--preset", "minimal")

    assert result.exit_code == 1
    assert rows(result.stdout) == [
        ("minimal", "render", "passed"),
        ("minimal", "install", "failed"),
        ("minimal", "lint", "skipped"),
        ("minimal", "migrate", "skipped"),
        ("minimal", "tests", "skipped"),
    ]
    assert fake.step_args() == [("sync",)]


def test_keep_leaves_the_rendered_projects_in_dir(fake: FakeRunner, workdir: Path) -> None:
    result = invoke("--preset", "flask-default", "--preset", "fastapi-default", "--keep", "out")

    assert result.exit_code == 0, result.output
    for name in ("flask-default", "fastapi-default"):
        assert (workdir / "out" / name / "pyproject.toml").is_file()
        assert (workdir / "out" / name / ".copier-answers.yml").is_file()
    assert sorted(p.name for p in (workdir / "out").iterdir()) == [
        "fastapi-default",
        "flask-default",
    ]
    assert f"kept in {workdir / 'out'}" in result.stdout


def _keep_not_empty(work: Path) -> None:
    (work / "out" / "minimal").mkdir(parents=True)
    (work / "out" / "minimal" / "mine.txt").write_text("mine\n")


def _nothing(_: Path) -> None:
    pass


@pytest.mark.parametrize(
    ("args", "setup", "code", "fragment"),
    [
        (["--preset", "nope"], _nothing, 2, "unknown preset 'nope'; available presets: "),
        (["--framework", "django"], _nothing, 2, "--framework 'django' is not one of"),
        (["-f", "flask", "-p", "fastapi-default"], _nothing, 2, "is not a flask preset"),
        (["-p", "minimal"], _keep_not_empty, 3, "exists and is not empty"),
        (["-p", "minimal", "--jobs", "0"], _nothing, 2, "--jobs must be 1 or more, not 0"),
        (["--list", "-p", "nope"], _nothing, 2, "unknown preset 'nope'"),
    ],
    ids=[
        "unknown-preset",
        "unknown-framework",
        "other-framework",
        "keep-not-empty",
        "jobs-zero",
        "list-unknown-preset",
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    fake: FakeRunner,
    workdir: Path,
    args: list[str],
    setup: Callable[[Path], None],
    code: int,
    fragment: str,
) -> None:
    setup(workdir)
    before = snapshot(workdir)

    result = invoke(*args, "--keep", "out")

    assert_one_error_line(result, code, fragment)
    assert snapshot(workdir) == before
    assert fake.calls == []


def test_postgresql_presets_without_psycopg_are_refused_before_anything_is_written(
    fake: FakeRunner, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` raises ImportError
    before = snapshot(workdir)

    result = invoke("--preset", "flask-default", "--preset", "flask-postgresql", "--keep", "out")

    assert_one_error_line(result, 9, "install it: python -m pip install 'scaffold[smoke]'")
    assert snapshot(workdir) == before
    assert fake.calls == []


def test_unknown_preset_lists_every_available_preset(fake: FakeRunner) -> None:
    result = invoke("--preset", "nope")
    for name in ("minimal", "flask-default", "fastapi-postgresql-celery"):
        assert name in result.stderr


def test_a_render_that_crashes_is_a_failed_row_not_a_traceback(
    fake: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("'items' is undefined")

    monkeypatch.setattr("scaffold.render.new_project", broken)

    result = invoke("--preset", "minimal")

    assert result.exit_code == 1
    assert rows(result.stdout)[:2] == [
        ("minimal", "render", "failed"),
        ("minimal", "install", "skipped"),
    ]
    assert "'items' is undefined" in result.stdout
    assert fake.calls == []


def test_postgresql_unreachable_is_one_clear_line_and_skips_what_needs_the_database(
    fake: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCAFFOLD_SMOKE_POSTGRES_URL", UNREACHABLE)

    result = invoke("--preset", "flask-postgresql")

    assert result.exit_code == 1
    assert rows(result.stdout) == [
        ("flask-postgresql", "render", "passed"),
        ("flask-postgresql", "add resources", "passed"),
        ("flask-postgresql", "database", "failed"),
        ("flask-postgresql", "install", "passed"),
        ("flask-postgresql", "lint", "passed"),
        ("flask-postgresql", "migrate", "skipped"),
        ("flask-postgresql", "tests", "skipped"),
    ]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    assert line.startswith("FAILED flask-postgresql: database: PostgreSQL at 127.0.0.1:1 is ")
    assert line.endswith("start it or point SCAFFOLD_SMOKE_POSTGRES_URL at a server")
    assert "Traceback" not in result.output


# --- run_smoke() -------------------------------------------------------------------------------


def test_a_postgresql_preset_gets_its_own_database_dropped_even_after_a_failure(
    fake: FakeRunner,
) -> None:
    fake.fail = {("run", "pytest"): "FAILED tests/test_items.py::test_create"}

    report = run_smoke(["fastapi-postgresql-celery"], postgres_url=POSTGRES, redis_url="")

    (run,) = report.presets
    steps = [(result.step, result.status) for result in run.results]
    assert steps == [
        ("render", "passed"),
        ("database", "passed"),
        ("install", "passed"),
        ("lint", "passed"),
        ("migrate", "passed"),
        ("tests", "failed"),
        ("drop database", "passed"),
    ]
    assert not report.ok
    name = run.results[1].detail
    migrate, tests = fake.calls[2], fake.calls[3]
    for call in (migrate, tests):
        assert call.env["DATABASE_URL"] == call.env["TEST_DATABASE_URL"]
        assert call.env["DATABASE_URL"].endswith(f"@127.0.0.1:5432/{name}")
    assert fake.databases == [True] * len(fake.calls)  # it existed while the steps ran
    assert not database_exists(name)
    assert "REDIS_URL" not in tests.env


def test_the_callers_settings_do_not_leak_into_a_presets_project(
    fake: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://prod.example.com/orders")
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/.venv")
    monkeypatch.setenv("SCAFFOLD_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/3")

    report = run_smoke(["flask-sqlite-celery", "flask-default"])

    assert report.ok
    celery = [c for c in fake.calls if "flask-sqlite-celery" in str(c.cwd)]
    plain = [c for c in fake.calls if "flask-default" in str(c.cwd)]
    assert celery
    assert plain
    assert all(c.env["REDIS_URL"] == "redis://127.0.0.1:6379/3" for c in celery)
    for call in fake.calls:
        assert "VIRTUAL_ENV" not in call.env
        assert "DATABASE_URL" not in call.env
    assert all("REDIS_URL" not in c.env for c in plain)


def test_run_command_merges_stderr_and_reports_a_timeout(tmp_path: Path) -> None:
    env = dict(os.environ)
    script = "import sys, time; print('out', flush=True); print('err', file=sys.stderr, flush=True)"
    done = smoke.run_command([sys.executable, "-c", f"{script}; sys.exit(3)"], tmp_path, env, 60)
    assert done.returncode == 3
    assert done.output.split() == ["out", "err"]

    slow = smoke.run_command([sys.executable, "-c", f"{script}; time.sleep(30)"], tmp_path, env, 2)
    assert slow.returncode is None
    assert slow.output.split()[:2] == ["out", "err"]
    assert slow.output.endswith("timed out after 2 s")


def test_the_real_steps_are_the_projects_own_checks() -> None:
    commands = {step.name: " ".join(step.args) for step in STEPS}
    assert commands == {
        "install": "sync",
        "lint": "run ruff check",
        "format": "run ruff format --check",
        "types": "run mypy",
        "migrate": "run alembic upgrade head",
        "migrations check": "run alembic check",
        "tests": "run pytest",
    }


def test_unknown_preset_from_the_library_is_a_scaffold_error(fake: FakeRunner) -> None:
    with pytest.raises(UnknownPreset):
        run_smoke(["nope"])


# --- a CI matrix and parallel runs ---------------------------------------------------------------


def test_list_prints_every_preset_as_a_ci_matrix_entry_and_runs_nothing(
    fake: FakeRunner, workdir: Path
) -> None:
    result = invoke("--list")

    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [entry["name"] for entry in entries] == [p.name for p in list_presets()]
    by_name = {entry["name"]: entry for entry in entries}
    assert by_name["flask-postgresql-celery"] == {
        "name": "flask-postgresql-celery",
        "framework": "flask",
        "postgresql": True,
        "redis": True,
    }
    assert by_name["fastapi-default"] == {
        "name": "fastapi-default",
        "framework": "fastapi",
        "postgresql": False,
        "redis": False,
    }
    assert by_name["fastapi-sqlite-celery"]["redis"] is True
    assert by_name["fastapi-sqlite-celery"]["postgresql"] is False
    assert fake.calls == []
    assert list(workdir.iterdir()) == []


def test_list_with_a_framework_lists_only_its_presets(fake: FakeRunner) -> None:
    result = invoke("--list", "--framework", "fastapi")

    assert result.exit_code == 0, result.output
    names = [entry["name"] for entry in json.loads(result.stdout)]
    assert names == [p.name for p in list_presets() if p.framework == "fastapi"]
    assert names


@dataclass
class BarrierRunner(FakeRunner):
    """A fake whose `uv sync` waits until ``parties`` presets are installing at the same time:
    run one after the other, the barrier times out and the install fails."""

    barrier: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=10))
    threads: set[str] = field(default_factory=set)

    def __call__(
        self, cmd: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
    ) -> CommandResult:
        self.threads.add(threading.current_thread().name)
        if tuple(cmd[1:]) == ("sync",):
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                return CommandResult(1, "ran alone\n")
        return super().__call__(cmd, cwd, env, timeout)


def test_jobs_runs_presets_at_the_same_time_and_keeps_the_report_in_preset_order(
    monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    fake = BarrierRunner()
    monkeypatch.setattr(smoke, "run_command", fake)
    monkeypatch.setattr(smoke, "STEPS", TINY_STEPS)

    result = invoke("-p", "minimal", "-p", "fastapi-default", "--jobs", "2")

    assert result.exit_code == 0, result.output
    steps = ("render", "install", "lint", "migrate", "tests")
    assert rows(result.stdout) == [
        *[("minimal", step, "passed") for step in steps],
        *[("fastapi-default", step, "passed") for step in steps],
    ]
    assert len(fake.threads) == 2
    assert re.search(
        r"2 presets, 0 failed; \d+ s \(\d+ s of steps, 2 presets at a time\)\.", result.stdout
    )
    # every progress line is whole: "<preset>: <step> passed (n.n s)" or "<preset>: <step>..."
    whole = re.compile(r"(minimal|fastapi-default): [a-z ]+(\.\.\.| passed \(\d+\.\d s\))")
    for line in result.stderr.splitlines():
        assert whole.fullmatch(line), line
    # each preset's own steps still ran in order, in its own project
    for name in ("minimal", "fastapi-default"):
        own = [call.args for call in fake.calls if call.cwd.name == name]
        assert own == [step.args for step in TINY_STEPS]


def test_one_job_runs_the_presets_one_after_the_other(
    monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    fake = BarrierRunner(barrier=threading.Barrier(2, timeout=0.5))
    monkeypatch.setattr(smoke, "run_command", fake)
    monkeypatch.setattr(smoke, "STEPS", TINY_STEPS)

    result = invoke("-p", "minimal", "-p", "fastapi-default", "--jobs", "1")

    # alone at the barrier, each install times out: nothing ran beside it
    assert result.exit_code == 1
    assert ("minimal", "install", "failed") in rows(result.stdout)
    assert ("fastapi-default", "install", "failed") in rows(result.stdout)
    assert fake.threads == {threading.main_thread().name}


def test_install_is_locked_when_the_project_has_a_lock_file(tmp_path: Path) -> None:
    install = next(step for step in smoke.STEPS if step.name == "install")

    assert install.command("uv", tmp_path) == ["uv", "sync"]
    (tmp_path / "uv.lock").write_text("version = 1\n")
    assert install.command("uv", tmp_path) == ["uv", "sync", "--locked"]
