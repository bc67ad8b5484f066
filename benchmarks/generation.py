"""Generation speed: `scaffold new` against plain `copier copy` of the same template and answers.

    python benchmarks/generation.py [--reps N]

Per flavor, in each repetition and in a rotating order: `scaffold new DEST --defaults` (with
its git init + first commit), the same with `--no-git`, and `copier copy --defaults --vcs-ref
HEAD` of this checkout with the same answers (what scaffold renders from when it runs from a
git checkout); in the project `scaffold new` made, `scaffold add resource` of PRODUCT.md's two
example resources (Customer, then Order referring to it; each adds its files and commits them).
Then the start-up time of `scaffold --help` and `scaffold --version`.
Prints medians with their spread and the ratios; it never fails on a time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _common import FRAMEWORKS, REPO, footer, header, ratio, summary, timed, tool

# PRODUCT.md's example resources ("Adding a resource"), added in this order.
RESOURCES = {
    "add resource Customer": [
        "Customer",
        "--field",
        "name:str",
        "--field",
        "email:str:320",
        "--field",
        "vip:bool",
    ],
    "add resource Order": [
        "Order",
        "--field",
        "customer:ref:Customer",
        "--field",
        "quantity:int",
        "--field",
        "total:decimal",
        "--field",
        "note:text?",
        "--field",
        "shipped_on:date?",
    ],
}


def commands(flavor: str, dest: Path) -> dict[str, list[str]]:
    scaffold, copier = tool("scaffold"), tool("copier")
    return {
        "scaffold new": [scaffold, "new", str(dest), "--framework", flavor, "--defaults"],
        "scaffold new --no-git": [
            scaffold,
            "new",
            str(dest),
            "--framework",
            flavor,
            "--defaults",
            "--no-git",
        ],
        "copier copy": [
            copier,
            "copy",
            "--quiet",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data",
            f"framework={flavor}",
            str(REPO),
            str(dest),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each command")
    args = parser.parse_args()
    header("Generation: scaffold new vs copier copy")
    work = Path(tempfile.mkdtemp(prefix="scaffold-bench-gen-"))
    try:
        for flavor in FRAMEWORKS:
            times: dict[str, list[float]] = {}
            for rep in range(args.reps):
                dest = work / "demo"  # same folder name: same derived defaults for both tools
                names = list(commands(flavor, dest))
                # Rotate the order each repetition so that no command always runs first.
                names = names[rep % len(names) :] + names[: rep % len(names)]
                for name in names:
                    times.setdefault(name, []).append(timed(commands(flavor, dest)[name]))
                    if name == "scaffold new":  # a project with git, as adding a resource needs
                        for resource, arguments in RESOURCES.items():
                            add = [tool("scaffold"), "add", "resource", *arguments]
                            times.setdefault(resource, []).append(timed(add, cwd=dest))
                    shutil.rmtree(dest)
            print(f"\n## {flavor}")
            for name, values in times.items():
                print(f"{name:24} {summary(values)}")
            base = times["copier copy"]
            with_git = ratio(times["scaffold new"], base)
            print(f"ratio scaffold new / copier copy:          {with_git:.3f}")
            print(
                "ratio scaffold new --no-git / copier copy: "
                f"{ratio(times['scaffold new --no-git'], base):.3f}"
            )
        print("\n## start-up")
        scaffold = tool("scaffold")
        startup: dict[str, list[float]] = {"--help": [], "--version": []}
        for _ in range(args.reps * 2):
            for flag, values in startup.items():
                values.append(timed([scaffold, flag]))
        for flag, values in startup.items():
            print(f"scaffold {flag:10} {summary(values)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    footer()


if __name__ == "__main__":
    main()
