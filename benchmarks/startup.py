"""Start-up: importing a generated app against importing its framework, and the CLIs' `--help`.

    python benchmarks/startup.py [--reps N] [--vcs-ref REF]

Renders both flavors (defaults, SQLite, `--no-git`) and installs them with `uv sync`, runs
every command once untimed (so that the `.pyc` files exist: `PYTHONDONTWRITEBYTECODE` is
removed from the environment), then, in each repetition and in a rotating order, per flavor:

- `python -c 'import <package>.app'` (the project's own interpreter);
- the framework reference: the web framework and the ORM layer the app is built on, as the
  product brief names them, FastAPI flavor `import fastapi, sqlalchemy.ext.asyncio`, Flask
  flavor `import flask, sqlalchemy.orm`;
- for the Flask flavor also `import flask, flask_smorest, sqlalchemy.orm` (for information:
  flask-smorest brings what FastAPI has built in, validation and OpenAPI);
- `python -c 'import <package>.app; <package>.app.create_app()'` (for information: what a
  server or a test pays before its first request);
- `<project_slug> --help` (the generated management CLI);

and `scaffold --help` once per repetition. `--vcs-ref` renders the projects from another
commit of this checkout (e.g. the one before a change, to compare). The app's cost is the
difference between the app's import and the reference's, taken within each repetition (both
include the interpreter's start-up). Targets (product brief, "Speed"): that difference <= 0.5
s, `<project_slug> --help` <= 0.5 s, `scaffold --help` <= 0.5 s; each is printed as met or
missed on its median of wall time. Each line gives the wall time and the CPU time (user +
system) of the process: on a shared machine the CPU time varies less. It never fails on a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import ENV, FRAMEWORKS, REPO, footer, header, summary, timed, tool

SLUG = "demo"  # the rendered projects' name: their package and their CLI are called `demo`
# Per flavor: the reference the target is checked against, then any shown for information.
REFERENCES = {
    "fastapi": ("import fastapi, sqlalchemy.ext.asyncio",),
    "flask": ("import flask, sqlalchemy.orm", "import flask, flask_smorest, sqlalchemy.orm"),
}
TARGET = 0.5  # seconds
# Measure with byte-code caching on, as a user's machine has it.
RUN_ENV = {key: value for key, value in ENV.items() if key != "PYTHONDONTWRITEBYTECODE"}


def render(flavor: str, dest: Path, vcs_ref: str | None) -> None:
    new = [tool("scaffold"), "new", str(dest), "--framework", flavor, "--defaults", "--no-git"]
    if vcs_ref is not None:
        new += ["--template", str(REPO), "--vcs-ref", vcs_ref]
    timed(new)
    timed([tool("uv"), "sync", "--quiet"], cwd=dest)


def timed_cpu(cmd: Sequence[str], cwd: Path | None = None) -> tuple[float, float]:
    """Run `cmd` (in `cwd`); its wall time and its CPU time (user + system), in seconds."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), cwd=cwd, env=RUN_ENV, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, by wait4
        if proc.returncode != 0:
            errors.seek(0)
            output = errors.read().decode(errors="replace")[-2000:]
            sys.exit(f"error: `{' '.join(cmd)}` failed:\n{output}")
    return elapsed, usage.ru_utime + usage.ru_stime


def commands(flavor: str, project: Path) -> dict[str, list[str]]:
    python, package = str(project / ".venv" / "bin" / "python"), SLUG
    return {
        "app": [python, "-c", f"import {package}.app"],
        **{reference: [python, "-c", reference] for reference in REFERENCES[flavor]},
        "create_app": [python, "-c", f"import {package}.app; {package}.app.create_app()"],
        "cli": [str(project / ".venv" / "bin" / SLUG), "--help"],
    }


def verdict(values: Sequence[float]) -> str:
    return f"target <= {TARGET} s: " + ("met" if statistics.median(values) <= TARGET else "MISSED")


def line(label: str, wall: Sequence[float], cpu: Sequence[float], target: bool = False) -> str:
    text = f"{label:46} {summary(wall)}  cpu {statistics.median(cpu):.3f} s"
    return f"{text}  {verdict(wall)}" if target else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="repetitions of each command")
    parser.add_argument("--vcs-ref", help="render the projects from this commit of the checkout")
    args = parser.parse_args()
    header("Start-up: import <package>.app vs the framework, <slug> --help, scaffold --help")
    work = Path(tempfile.mkdtemp(prefix="scaffold-bench-startup-"))
    try:
        cmds: dict[tuple[str, str], list[str]] = {}
        # In the project's directory, as a user runs them: its .env (a development SECRET_KEY)
        # is read there; elsewhere the settings are production's, which refuse to start
        # without one.
        cwds: dict[tuple[str, str], Path | None] = {}
        for flavor in FRAMEWORKS:
            project = work / flavor / SLUG
            render(flavor, project, args.vcs_ref)
            for name, cmd in commands(flavor, project).items():
                cmds[(flavor, name)], cwds[(flavor, name)] = cmd, project
        cmds[("scaffold", "cli")], cwds[("scaffold", "cli")] = [tool("scaffold"), "--help"], None
        for key, cmd in cmds.items():  # warm-up: byte-code written, files in the page cache
            timed_cpu(cmd, cwds[key])
        keys = list(cmds)
        wall: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
        cpu: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
        for rep in range(args.reps):
            # Rotate the order each repetition so that no command always runs first.
            shift = rep % len(keys)
            for key in keys[shift:] + keys[:shift]:
                elapsed, used = timed_cpu(cmds[key], cwds[key])
                wall[key].append(elapsed)
                cpu[key].append(used)
        for flavor in FRAMEWORKS:
            app = (flavor, "app")
            print(f"\n## {flavor}")
            print(line(f"import {SLUG}.app", wall[app], cpu[app]))
            for index, reference in enumerate(REFERENCES[flavor]):
                ref = (flavor, reference)
                print(line(reference, wall[ref], cpu[ref]))
                # Differences within each repetition, so that load from elsewhere cancels out.
                diff_wall = [a - r for a, r in zip(wall[app], wall[ref], strict=True)]
                diff_cpu = [a - r for a, r in zip(cpu[app], cpu[ref], strict=True)]
                label = "  difference" + ("" if index == 0 else " (for information)")
                print(line(label, diff_wall, diff_cpu, target=index == 0))
            create = (flavor, "create_app")
            print(line(f"import {SLUG}.app; create_app()", wall[create], cpu[create]))
            cli = (flavor, "cli")
            print(line(f"{SLUG} --help", wall[cli], cpu[cli], target=True))
        scaffold = ("scaffold", "cli")
        print("\n## scaffold")
        print(line("scaffold --help", wall[scaffold], cpu[scaffold], target=True))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    footer()


if __name__ == "__main__":
    main()
