"""Secrets fail closed (API-CONTRACT.md, "Hardening"): without a usable SECRET_KEY neither
`<slug> serve` nor a plain gunicorn / uvicorn start serves anything; both frameworks alike."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.contract.conftest import PACKAGE_NAME, PROJECT_SLUG, Project, base_env, free_port

pytestmark = pytest.mark.contract

REFUSAL = "SECRET_KEY must be set to a random string of at least 32 characters"
# Long enough for a server to come up and listen (then the test fails on the timeout).
START_TIMEOUT = 60.0


def _start(
    project: Project, cwd: Path, *command: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a start command of the project's in `cwd` (no .env there unless the test put
    one), with no ENVIRONMENT or SECRET_KEY but those in `env`."""
    environment = base_env()
    environment.update(env)
    return subprocess.run(
        [str(project.path / ".venv" / "bin" / command[0]), *command[1:]],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


def _plain_server(project: Project) -> list[str]:
    """The server started as its own documentation would start it, without our CLI."""
    if project.framework == "flask":
        return [
            "gunicorn",
            "--bind",
            f"127.0.0.1:{free_port()}",
            f"{PACKAGE_NAME}.app:create_app()",
        ]
    return ["uvicorn", "--factory", "--port", str(free_port()), f"{PACKAGE_NAME}.app:create_app"]


@pytest.mark.parametrize(
    "env",
    [{}, {"SECRET_KEY": "k" * 31}, {"ENVIRONMENT": "development"}],
    ids=["no-key-production-default", "short-key", "no-key-development"],
)
def test_serve_refuses_to_start_in_one_line(
    project: Project, tmp_path: Path, env: dict[str, str]
) -> None:
    proc = _start(project, tmp_path, PROJECT_SLUG, "serve", "--port", str(free_port()), **env)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == ""
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"Error: {REFUSAL}"), line


def test_serve_refuses_a_copy_of_env_example(project: Project, tmp_path: Path) -> None:
    shutil.copy(project.path / ".env.example", tmp_path / ".env")

    proc = _start(project, tmp_path, PROJECT_SLUG, "serve", "--port", str(free_port()))

    assert proc.returncode == 1, proc.stdout + proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"Error: {REFUSAL}"), line


def test_a_plain_server_start_without_a_key_exits_non_zero(
    project: Project, tmp_path: Path
) -> None:
    proc = _start(project, tmp_path, *_plain_server(project))

    assert proc.returncode != 0
    assert REFUSAL in proc.stdout + proc.stderr
