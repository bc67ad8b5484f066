"""Running external tools (uv, the generated projects' own commands) from the tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from uv import find_uv_bin

UV = find_uv_bin()


def tool_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for uv and generated projects: this PATH (CI puts the pyenv
    interpreters on it), no interpreter downloads, and no virtualenv of ours leaking in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH"}
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.update(extra or {})
    return env


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
