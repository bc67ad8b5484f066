"""A database outage under a running server, on a PostgreSQL instance of this test's own
(initdb + pg_ctl on a free port, as the postgres user; the machine's server is never touched):
every endpoint that needs the database answers 503 within 5 s, /health/live stays 200, and
service comes back by itself when the database does, without a restart. The admin too: its
pages, login and forms answer 503 (never a 500), and its sessions outlive the outage."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.contract.conftest import (
    FUZZ_RATE_LIMIT,
    PROJECT_SLUG,
    SUPERUSER,
    Database,
    Project,
    start_server,
)
from tests.contract.helpers import FormParser, admin_login
from tests.helpers import free_port

pytestmark = pytest.mark.contract

UNAVAILABLE_WITHIN = 5.0  # API-CONTRACT.md: a 503 within 5 s, never a hang
RECOVERY_TIMEOUT = 60.0


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this module's own, run as the postgres user."""

    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin_dir / "pg_ctl"), "-D",
             str(self.data_dir), *args],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir}"
        log = self.data_dir / "server.log"
        self.pg_ctl("-o", options, "-l", str(log), "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found or shutil.which("runuser") is None:
        pytest.fail("the outage test needs PostgreSQL's initdb and runuser", pytrace=False)
    bin_dir = found[-1].parent
    root = Path(tempfile.mkdtemp(prefix="scaffold-outage-"))
    root.chmod(0o755)  # the postgres user must reach its data directory
    data_dir = root / "data"
    data_dir.mkdir()
    shutil.chown(data_dir, "postgres", "postgres")
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D", str(data_dir),
         "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    cluster = PrivatePostgres(bin_dir, data_dir, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(bin_dir / "pg_ctl"), "-D", str(data_dir),
             "-m", "immediate", "stop"],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def first_answer(get: Callable[[], httpx.Response]) -> tuple[httpx.Response | None, float]:
    started = time.monotonic()
    try:
        response = get()
    except httpx.HTTPError:
        response = None
    return response, time.monotonic() - started


def csrf_token(page: httpx.Response) -> str:
    """The CSRF token of the first form of an admin page that has one."""
    parser = FormParser()
    parser.feed(page.text)
    tokens = [
        field["value"]
        for form in parser.forms
        for field in form["inputs"]
        if field.get("name") == "csrf_token" and field.get("value")
    ]
    assert tokens, f"no CSRF token on {page.url}: {page.text[:500]}"
    token: str = tokens[0]
    return token


def test_a_database_outage_is_503_within_5_s_and_service_resumes_by_itself(
    project: Project, postgres: PrivatePostgres
) -> None:
    name = f"outage_{project.framework}"
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(postgres.bin_dir / "createdb"), "-h",
         "127.0.0.1", "-p", str(postgres.port), name],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    url = f"postgresql://postgres@127.0.0.1:{postgres.port}/{name}"
    database = Database("postgresql", url)
    env = project.database_env(database)
    project.run("run", "alembic", "upgrade", "head", env=env)
    project.run(
        "run", PROJECT_SLUG, "create-user", "--email", SUPERUSER.email,
        "--password", SUPERUSER.password, "--superuser", env=env,
    )  # fmt: skip
    server = start_server(project, database, rate_limit=FUZZ_RATE_LIMIT, name="outage")
    try:
        client = server.client()
        token = server.token(server.superuser)
        auth = {"Authorization": f"Bearer {token}"}
        created = client.post("/api/v1/items", json={"name": "before", "price": 1}, headers=auth)
        assert created.status_code == 201, created.text
        item = f"/api/v1/items/{created.json()['id']}"
        admin, admin_page = admin_login(server, SUPERUSER)
        assert admin_page.status_code == 200, admin_page.text
        logout_form = {"csrf_token": csrf_token(admin_page)}
        visitor = server.client(behind_tls_proxy=True)
        login_form = {
            "email": SUPERUSER.email,
            "password": SUPERUSER.password,
            "csrf_token": csrf_token(visitor.get("/admin/login")),
        }

        postgres.stop()
        needs_database: dict[str, Callable[[], httpx.Response]] = {
            "GET /api/v1/items": lambda: client.get("/api/v1/items"),
            f"GET {item}": lambda: client.get(item),
            "POST /api/v1/items": lambda: client.post(
                "/api/v1/items", json={"name": "during", "price": 1}, headers=auth
            ),
            "GET /api/v1/users/me": lambda: client.get("/api/v1/users/me", headers=auth),
            "POST /api/v1/auth/token": lambda: client.post(
                "/api/v1/auth/token",
                data={"username": SUPERUSER.email, "password": SUPERUSER.password},
            ),
            "GET /health/ready": lambda: client.get("/health/ready"),
            "GET /health": lambda: client.get("/health"),
            "GET /admin/": lambda: admin.get("/admin/"),
            "POST /admin/login": lambda: visitor.post("/admin/login", data=login_form),
            "POST /admin/logout": lambda: admin.post("/admin/logout", data=logout_form),
        }
        timeline = []
        for name, call in needs_database.items():
            response, seconds = first_answer(call)
            timeline.append(f"{name} {seconds:.2f} s")
            assert response is not None, f"[{server.framework}] {name}: no answer"
            assert response.status_code == 503, f"[{server.framework}] {name}: {response.text}"
            assert "detail" in response.json() or "status" in response.json()
            assert seconds < UNAVAILABLE_WITHIN, f"[{server.framework}] {name}: {seconds:.1f} s"
        live = client.get("/health/live")
        assert live.status_code == 200, live.text

        postgres.start()
        restarted = time.monotonic()
        while True:
            response, _ = first_answer(lambda: client.get(item))
            if response is not None and response.status_code == 200:
                break
            assert time.monotonic() - restarted < RECOVERY_TIMEOUT, "no recovery"
            time.sleep(0.2)
        recovered = time.monotonic() - restarted
        assert server.process.poll() is None  # the same server, never restarted
        after = client.post("/api/v1/items", json={"name": "after", "price": 1}, headers=auth)
        assert after.status_code == 201, after.text
        admin_after = admin.get("/admin/")  # still logged in
        assert admin_after.status_code == 200, admin_after.text
        print(
            f"[{server.framework}] outage: "
            + ", ".join(timeline)
            + f"; back {recovered:.2f} s after the database"
        )
    finally:
        server.stop()
