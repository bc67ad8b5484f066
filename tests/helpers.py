"""What several test modules share: running the CLI and external tools (uv, git, the
generated projects' own commands), and comparing trees."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from typer.testing import CliRunner, Result
from uv import find_uv_bin

from scaffold.cli import app
from scaffold.toolenv import project_env

UV = find_uv_bin()
# A commit identity for the tests' own git repositories, whatever the machine's git config.
IDENTITY = ("-c", "user.name=Test", "-c", "user.email=test@example.com")
runner = CliRunner()

Contents = dict[str, str]


def invoke(*args: str) -> Result:
    """Run ``scaffold ARGS`` in-process."""
    return runner.invoke(app, list(args))


def assert_one_error_line(result: Result, code: int, fragment: str) -> None:
    """The run failed with ``code`` and said so in one ``error:`` line holding ``fragment``."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def git(repo: Path, *args: str) -> str:
    """``git ARGS`` in ``repo`` with the tests' identity; its stdout (fails the test on error)."""
    proc = subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def contents(root: Path) -> Contents:
    """Every file outside .git (ignored ones such as .env too) with a hash of its bytes."""
    result: Contents = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if name != ".git"]
        for name in filenames:
            path = Path(dirpath) / name
            result[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for uv and generated projects (scaffold's own, :func:`project_env`):
    this PATH (CI puts the pyenv interpreters on it), no interpreter downloads, nothing of our
    virtualenv and no project setting of the caller's shell."""
    return project_env(extra)


def run(
    cmd: Sequence[str | os.PathLike[str]],
    cwd: Path,
    *,
    timeout: float = 900,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; return the finished process (stdout and stderr merged in ``stdout``)."""
    return subprocess.run(
        [str(part) for part in cmd],
        cwd=cwd,
        env=dict(env) if env is not None else tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def explain(cmd: Sequence[str | os.PathLike[str]], proc: subprocess.CompletedProcess[str]) -> str:
    """A failure message: the command, its exit code and the tail of its output."""
    tail = "\n".join(proc.stdout.splitlines()[-200:])
    shown = " ".join(str(part) for part in cmd)
    return f"`{shown}` exited with {proc.returncode}:\n{tail}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a process group started with ``start_new_session`` (uv, the server or
    worker it runs, their children); kill it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    # Workers that outlived their master.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def copy_project(source: Path, dest: Path) -> Path:
    """A copy of the project at ``source`` (its git history included) at ``dest``."""
    shutil.copytree(source, dest, symlinks=True)
    return dest
