"""Helpers the benchmark scripts share: timing, statistics, the machine's description."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from scaffold.questionnaire import frameworks
from scaffold.toolenv import project_env

REPO = Path(__file__).resolve().parents[1]
# Every framework the template renders: copier.yml's `framework` choices.
FRAMEWORKS = frameworks(REPO / "copier.yml")
VENV_BIN = Path(sys.executable).parent
# uv must not download interpreters; the projects target the Pythons on PATH.
# scaffold's one environment for generated projects (no virtualenv of ours, no project setting
# of the caller's shell, no interpreter downloads), with this interpreter's tools first on PATH.
ENV = project_env({"PATH": f"{VENV_BIN}:{os.environ['PATH']}"})


def tool(name: str) -> str:
    """An executable: from this interpreter's environment first (scaffold, copier), then PATH."""
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name, path=ENV["PATH"])
    if found is None:
        sys.exit(f"error: {name} is not installed")
    return found


def timed(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    """Run `cmd` to completion; its wall time in seconds. A failure stops the benchmark."""
    started = time.perf_counter()
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=env or ENV, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        output = proc.stdout[-3000:] + proc.stderr[-2000:]
        sys.exit(f"error: `{' '.join(cmd)}` failed ({proc.returncode}):\n{output}")
    return elapsed


def summary(values: Sequence[float], unit: str = "s", digits: int = 3) -> str:
    """Median and spread (min-max) of repeated measurements."""
    med = statistics.median(values)
    return (
        f"{med:.{digits}f} {unit} (min {min(values):.{digits}f}, max {max(values):.{digits}f},"
        f" n={len(values)})"
    )


def ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median of A over median of B."""
    return statistics.median(a) / statistics.median(b)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def yardstick() -> float:
    """Seconds this machine takes for 10 million additions in a Python loop (best of three):
    one figure to compare machines by, since runs are not always on the same one."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def cpu_ticks() -> tuple[int, int]:
    """(steal, all) CPU ticks since boot, from /proc/stat; (0, 0) where there is none."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0, 0
    ticks = [int(field) for field in fields]
    steal = ticks[7] if len(ticks) > 7 else 0  # user nice system idle iowait irq softirq steal
    return steal, sum(ticks[:8])


_START_TICKS = cpu_ticks()


def header(title: str) -> None:
    print(f"# {title}")
    print(f"machine: {machine()}")
    print(f"yardstick: 10 million additions in a Python loop take {yardstick():.2f} s")
    print(f"load average at start (1/5/15 min): {load_average()}")


def footer() -> None:
    """The load at the end and the CPU time the hypervisor took (steal) during the run: a run
    with steal or a high load measured a machine busy with something else."""
    steal, total = (end - start for end, start in zip(cpu_ticks(), _START_TICKS, strict=True))
    stolen = f"{100 * steal / total:.1f} %" if total else "unknown"
    print(f"\nload average at end (1/5/15 min): {load_average()}")
    print(f"CPU steal during the run: {stolen}")


def installed_scaffold(work: Path) -> tuple[str, dict[str, str]]:
    """scaffold as a user has it: a wheel of this checkout (its committed history, bundled by
    hatch_build.py) installed into a virtualenv of its own under ``work``, with a template cache
    (``XDG_CACHE_HOME``) of its own there and uv's usual cache. Returns the ``scaffold``
    executable and the environment to run it in. Untimed: the caller times what it runs."""
    uv = tool("uv")
    uv_cache = subprocess.run(
        [uv, "cache", "dir"], env=ENV, capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {**ENV, "XDG_CACHE_HOME": str(work / "xdg-cache"), "UV_CACHE_DIR": uv_cache}
    timed([uv, "build", "--wheel", "--quiet", "--out-dir", str(work / "dist")], cwd=REPO, env=env)
    (wheel,) = (work / "dist").glob("scaffold-*.whl")
    venv = work / "scaffold-venv"
    timed([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], env=env)
    timed(
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"), str(wheel)], env=env
    )
    return str(venv / "bin/scaffold"), env
