"""A task queued through the API is run by a real Celery worker (both frameworks).

Renders a project with ``background_tasks=celery``, installs it, migrates a SQLite file
database, then starts ``celery -A <package>.tasks worker`` and the production server
(``<slug> serve``) against the machine's Redis, and follows a task from
``POST /api/v1/tasks/item-summary`` to its result. Needs the package index (uv sync) and a
Redis server at 127.0.0.1:6379 (database 11, away from the default one).
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scaffold.render import new_project
from tests.conftest import FRAMEWORKS
from tests.helpers import UV, explain, free_port, run, stop_process, tool_env

pytestmark = pytest.mark.smoke

REDIS_URL = "redis://127.0.0.1:6379/11"
SLUG = "worker-check"
PACKAGE = "worker_check"
EMAIL = "owner@example.com"
PASSWORD = "Owner-pass-0001"  # noqa: S105 (a test user's password)
PRICES = (9.5, 0.25, 10.0)
STARTUP_TIMEOUT = 60.0
TASK_TIMEOUT = 90.0


# Variables of the caller that would change what the project's commands do.
@contextlib.contextmanager
def background(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[None]:
    """Run ``cmd`` in its own process group for the duration of the block, then end it."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield
    finally:
        stop_process(process)


def wait_for_health(base_url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/health", timeout=5.0).status_code == 200:
                return
        time.sleep(0.25)
    pytest.fail(f"the server did not become healthy:\n{log.read_text()[-5000:]}", pytrace=False)


def checked(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    proc = run(cmd, cwd, env=env)
    assert proc.returncode == 0, explain(cmd, proc)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_summary_queued_through_the_api_is_computed_by_a_real_worker(
    tmp_path: Path, framework: str
) -> None:
    answers = {"background_tasks": "celery", "admin": False, "docker": False, "ci": "none"}
    project = new_project(
        tmp_path / SLUG, framework=framework, data=answers, defaults=True, git=False
    ).dest
    env = tool_env(
        {
            "ENVIRONMENT": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
            "REDIS_URL": REDIS_URL,
        }
    )
    checked([UV, "sync"], project, env)
    checked([UV, "run", "alembic", "upgrade", "head"], project, env)
    checked(
        [UV, "run", SLUG, "create-user", "--email", EMAIL, "--password", PASSWORD], project, env
    )

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    worker_log, server_log = tmp_path / "worker.log", tmp_path / "server.log"
    worker = [UV, "run", "celery", "-A", f"{PACKAGE}.tasks", "worker", "--loglevel", "INFO"]
    # One worker process is enough for one task (the default is one per CPU).
    worker.extend(["--concurrency", "1"])
    server = [UV, "run", SLUG, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with (
        background(worker, project, env, worker_log),
        background([*server, "--workers", "1"], project, env, server_log),
        httpx.Client(base_url=base_url, timeout=30.0) as client,
    ):
        wait_for_health(base_url, server_log)
        login = client.post("/api/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        for number, price in enumerate(PRICES):
            created = client.post("/api/v1/items", json={"name": f"item {number}", "price": price})
            assert created.status_code == 201, created.text
        owner_id = client.get("/api/v1/users/me").json()["id"]

        queued = client.post("/api/v1/tasks/item-summary")
        assert queued.status_code == 202, queued.text
        task_id = queued.json()["task_id"]
        assert queued.headers["Location"] == f"/api/v1/tasks/{task_id}"

        statuses = []
        deadline = time.monotonic() + TASK_TIMEOUT
        while time.monotonic() < deadline:
            state = client.get(queued.headers["Location"])
            assert state.status_code == 200, state.text
            statuses.append(state.json()["status"])
            if statuses[-1] in {"SUCCESS", "FAILURE"}:
                break
            time.sleep(0.5)
        assert statuses[-1] == "SUCCESS", (
            f"statuses seen: {statuses}\n--- worker ---\n{worker_log.read_text()[-5000:]}"
        )
        assert state.json() == {
            "task_id": task_id,
            "status": "SUCCESS",
            "result": {"owner_id": owner_id, "item_count": 3, "total_price": sum(PRICES)},
        }
    assert f"Task {PACKAGE}.tasks.summarize_user_items[{task_id}] succeeded" in (
        worker_log.read_text()
    )
