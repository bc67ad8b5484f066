"""Time to green: from `scaffold new` to the generated project's test suite passing.

    python benchmarks/time_to_green.py [--reps N]

Per flavor (defaults, SQLite), alternating flavors each repetition: `scaffold new DEST
--defaults` (with git), `uv sync` (uv's cache is warmed by one untimed install first), then
`uv run pytest` (the project's own command: coverage on, fail under 90%). Prints each phase's
median and spread, and the total. Never fails on a time; a failing suite stops the run.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _common import header, load_average, summary, timed, tool

FLAVORS = ("fastapi", "flask")
PHASES = ("scaffold new", "uv sync", "uv run pytest")


def run_once(flavor: str, dest: Path) -> dict[str, float]:
    uv = tool("uv")
    return {
        "scaffold new": timed(
            [tool("scaffold"), "new", str(dest), "--framework", flavor, "--defaults"]
        ),
        "uv sync": timed([uv, "sync", "--quiet"], cwd=dest),
        "uv run pytest": timed([uv, "run", "pytest", "-q", "-p", "no:cacheprovider"], cwd=dest),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    header("Time to green: scaffold new -> uv sync -> uv run pytest (uv cache warm)")
    work = Path(tempfile.mkdtemp(prefix="scaffold-bench-green-"))
    try:
        for flavor in FLAVORS:  # warm uv's cache: the timed runs download nothing
            run_once(flavor, work / "warm")
            shutil.rmtree(work / "warm")
        times: dict[str, dict[str, list[float]]] = {f: {p: [] for p in PHASES} for f in FLAVORS}
        totals: dict[str, list[float]] = {f: [] for f in FLAVORS}
        for rep in range(args.reps):
            order = FLAVORS if rep % 2 == 0 else FLAVORS[::-1]
            for flavor in order:
                dest = work / "demo"
                result = run_once(flavor, dest)
                shutil.rmtree(dest)
                for phase, value in result.items():
                    times[flavor][phase].append(value)
                totals[flavor].append(sum(result.values()))
        for flavor in FLAVORS:
            print(f"\n## {flavor}")
            for phase in PHASES:
                print(f"{phase:14} {summary(times[flavor][phase])}")
            print(f"{'total':14} {summary(totals[flavor])}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at end (1/5/15 min): {load_average()}")


if __name__ == "__main__":
    main()
