"""The few git operations scaffold needs: init, first commit, clean-tree check, status."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from scaffold.errors import GitError

FALLBACK_NAME = "scaffold"
FALLBACK_EMAIL = "scaffold@localhost"


def _git_exe() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise GitError("git is not installed", hint="install git or pass --no-git")
    return exe


def _run(
    repo: Path,
    *args: str,
    config: Sequence[str] = (),
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    cmd = [_git_exe()]
    for item in config:
        cmd += ["-c", item]
    cmd += list(args)
    proc = subprocess.run(
        cmd,
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env=None if env is None else dict(env),
    )
    if check and proc.returncode != 0:
        detail = " ".join((proc.stderr or proc.stdout).split()) or f"exit code {proc.returncode}"
        raise GitError(f"`git {' '.join(args)}` failed in {repo}: {detail}")
    return proc


def output(repo: Path, *args: str) -> str:
    """Run ``git ARGS`` in ``repo``; its stripped stdout (a :class:`GitError` if it fails)."""
    return _run(repo, *args).stdout.strip()


def output_env(repo: Path, env: Mapping[str, str], *args: str) -> str:
    """:func:`output` with ``env`` as the whole environment of git."""
    return _run(repo, *args, env=env).stdout.strip()


def identity_fallbacks(repo: Path) -> list[str]:
    """``-c`` settings that give a commit an author, for only what git has not got."""
    fallbacks = []
    for key, env_names, fallback in (
        ("user.name", ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"), FALLBACK_NAME),
        ("user.email", ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"), FALLBACK_EMAIL),
    ):
        if all(os.environ.get(name) for name in env_names):
            continue
        configured = _run(repo, "config", "--get", key, check=False).stdout.strip()
        if not configured:
            fallbacks.append(f"{key}={fallback}")
    return fallbacks


def init(repo: Path, branch: str = "main") -> None:
    """``git init`` with ``branch`` as the initial branch."""
    _run(repo, "init", "--quiet", config=[f"init.defaultBranch={branch}"])


def commit_all(repo: Path, message: str, *, allow_empty: bool = False) -> str:
    """Stage everything (honouring .gitignore), commit, return the commit id."""
    _run(repo, "add", "--all")
    _run(
        repo,
        "commit",
        "--quiet",
        "--no-verify",
        *(["--allow-empty"] if allow_empty else []),
        "--message",
        message,
        config=identity_fallbacks(repo),
    )
    return _run(repo, "rev-parse", "HEAD").stdout.strip()


def init_and_commit(repo: Path, message: str) -> str:
    """A new repository at ``repo`` whose first commit holds every file; the commit id."""
    init(repo)
    return commit_all(repo, message)


def uncommit(repo: Path, base: str) -> None:
    """Back to ``base`` with every later change left uncommitted and unstaged in the tree."""
    _run(repo, "reset", "--quiet", "--soft", base)
    _run(repo, "reset", "--quiet")


def is_repo(path: Path) -> bool:
    """True if ``path`` is the top level of a git work tree."""
    proc = _run(path, "rev-parse", "--show-toplevel", check=False)
    return proc.returncode == 0 and Path(proc.stdout.strip()).resolve() == path.resolve()


def status(repo: Path) -> list[str]:
    """``git status --porcelain`` lines (empty when the tree is clean)."""
    out = _run(repo, "status", "--porcelain", "--untracked-files=all").stdout
    return [line for line in out.splitlines() if line.strip()]


def is_clean(repo: Path) -> bool:
    """True when the work tree has no changes and no untracked files."""
    return not status(repo)


def commit_count(repo: Path) -> int:
    """How many commits HEAD has."""
    return int(_run(repo, "rev-list", "--count", "HEAD").stdout.strip())


def work_tree_root(path: Path) -> Path | None:
    """The top level of the git work tree that contains ``path``, or None."""
    proc = _run(path, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return Path(proc.stdout.strip()).resolve()


def changes(path: Path) -> list[tuple[str, str]]:
    """``(XY, file)`` for every change under ``path`` against HEAD (untracked files too).

    ``XY`` is git's two-letter porcelain status (``" M"``, ``"??"``, ``"UU"``...); ``file``
    is relative to ``path``. A rename is reported as its new name.
    """
    prefix = _run(path, "rev-parse", "--show-prefix").stdout.strip()
    out = _run(path, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".").stdout
    entries = out.split("\0")
    result: list[tuple[str, str]] = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            index += 1  # the next entry is the original name
        result.append((code, name.removeprefix(prefix)))
    return result


def has_commit(repo: Path, ref: str) -> bool:
    """True when ``ref`` names a commit in the repository at ``repo``."""
    proc = _run(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return proc.returncode == 0


def show_file(repo: Path, ref: str, path: str) -> str | None:
    """The text of ``path`` at ``ref`` in the repository at ``repo``, or None if it has none."""
    proc = _run(repo, "show", f"{ref}:{path}", check=False)
    return proc.stdout if proc.returncode == 0 else None
