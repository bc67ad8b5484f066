"""Secrets fail closed (API-CONTRACT.md, "Hardening"): without a usable SECRET_KEY, or with
a setting of the wrong type, neither `<slug> serve` nor a plain gunicorn / uvicorn start
serves anything, and each says why in one line, no traceback; both frameworks alike."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.contract.conftest import PACKAGE_NAME, PROJECT_SLUG, Project, base_env
from tests.helpers import free_port

pytestmark = pytest.mark.contract

REFUSAL = "SECRET_KEY must be set to a random string of at least 32 characters"
# A setting of the wrong type is refused too, in the same one line.
WRONG_TYPE = {"SECRET_KEY": "k" * 40, "WS_MAX_CONNECTIONS": "many"}
WRONG_TYPE_REFUSAL = "invalid setting, WS_MAX_CONNECTIONS: Input should be a valid integer"
# What uvicorn and gunicorn call a start-up failure: their supervisors stop for it.
REFUSED_EXIT_STATUS = 3
# gunicorn's own log lines ("[2026-12-01 10:43:39 +0000] [15217] [INFO] Starting gunicorn").
SERVER_LOG_LINE = re.compile(r"^\[[^]]+\] \[\d+\] \[[A-Z]+\] ")
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


@pytest.mark.parametrize(
    ("env", "named"),
    [({}, REFUSAL), (WRONG_TYPE, WRONG_TYPE_REFUSAL)],
    ids=["no-key", "wrong-type"],
)
def test_a_plain_server_start_with_refused_settings_exits_in_one_line(
    project: Project, tmp_path: Path, env: dict[str, str], named: str
) -> None:
    proc = _start(project, tmp_path, *_plain_server(project), **env)
    output = proc.stdout + proc.stderr

    assert proc.returncode == REFUSED_EXIT_STATUS, output
    assert "Traceback" not in output
    # Besides the server's own log lines (gunicorn's), one line: the app's.
    [line] = [line for line in proc.stderr.splitlines() if not SERVER_LOG_LINE.match(line)]
    assert line.startswith(f"Error: {named}"), output


def test_serve_refuses_a_setting_of_the_wrong_type_in_one_line(
    project: Project, tmp_path: Path
) -> None:
    proc = _start(
        project, tmp_path, PROJECT_SLUG, "serve", "--port", str(free_port()), **WRONG_TYPE
    )

    assert proc.returncode == 1, proc.stdout + proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith(f"Error: {WRONG_TYPE_REFUSAL}"), line
