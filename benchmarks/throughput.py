"""Throughput: each flavor's production server against a minimal hand-written app, with wrk.

    python benchmarks/throughput.py [--reps N] [--duration S] [--connections C] [--db LIST]

For each database (SQLite; PostgreSQL on 127.0.0.1:5432, a fresh database dropped at the end)
it renders both flavors with scaffold, installs them with uv, migrates, creates a user, and
starts four servers on the same database, one worker process each: the FastAPI flavor
(`<slug> serve --workers 1`, uvicorn), the hand-written FastAPI baseline (uvicorn), the Flask
flavor (`<slug> serve --workers 1`, gunicorn) and the hand-written Flask baseline (gunicorn's
sync worker). Then, repetition after repetition and in a rotating order, wrk loads one server
at a time with `GET /api/v1/items/{id}`, `GET /api/v1/items?limit=20` and an authenticated
`POST /api/v1/items`. Prints requests/s and p50/p99 latency (medians over the repetitions,
with their spread), the ratios, and each server's memory (RSS of the whole process tree) after
the load. It never fails on a figure; non-2xx answers are counted and printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from _common import ENV, FRAMEWORKS, footer, header, load_average, summary, timed, tool

HERE = Path(__file__).resolve().parent
BASELINES = HERE / "baselines"
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = "benchmark-secret-key-0123456789abcdef0123456789abcdef"  # noqa: S105  # a throwaway database
EMAIL, PASSWORD = "bench@example.com", "benchmark password 1"
ENDPOINTS = {
    "GET /api/v1/items/{id}": ("/api/v1/items/1", None),
    "GET /api/v1/items?limit=20": ("/api/v1/items?limit=20", None),
    "POST /api/v1/items": ("/api/v1/items", HERE / "post_item.lua"),
}
SERVERS = ("fastapi", "fastapi-baseline", "flask", "flask-baseline")


@dataclass
class Server:
    name: str
    cmd: list[str]
    cwd: Path
    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes] | None = None
    runs: dict[str, list[dict[str, float]]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                probe = self.url + "/api/v1/items?limit=1"
                with urllib.request.urlopen(probe, timeout=2):  # noqa: S310  # our http URL
                    return
            except OSError:
                if self.proc.poll() is not None:
                    code = self.proc.returncode
                    raise SystemExit(f"error: {self.name} exited ({code})") from None
                time.sleep(0.2)
        raise SystemExit(f"error: {self.name} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def rss_mib(self) -> tuple[float, int]:
        """Resident memory of the server's whole process tree (master + workers), MiB."""
        if self.proc is None:
            return 0.0, 0
        pids = _tree(self.proc.pid)
        total = 0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024, len(pids)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's whole process tree."""
        if self.proc is None:
            return 0.0
        ticks = 0
        for pid in _tree(self.proc.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return ticks / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return pids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def wrk(
    url: str, script: Path | None, duration: int, connections: int, token: str
) -> dict[str, float]:
    cmd = [tool("wrk"), "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run(
        [*cmd, url], env={**ENV, "BENCH_TOKEN": token}, capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "requests": float(requests),
        "rps": rps,
        "p50_ms": p50 * 1000,
        "p99_ms": p99 * 1000,
        "non_2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def render(flavor: str, database: str, dest: Path) -> tuple[Path, str]:
    timed(
        [
            tool("scaffold"),
            "new",
            str(dest),
            "--framework",
            flavor,
            "--defaults",
            "-d",
            f"database={database}",
            "--no-git",
        ]
    )
    timed([tool("uv"), "sync", "--quiet"], cwd=dest)
    answers = (dest / ".copier-answers.yml").read_text()
    slug = re.search(r"^project_slug: (\S+)$", answers, re.M).group(1)  # type: ignore[union-attr]
    return dest, slug


def post_json(url: str, data: bytes, headers: dict[str, str]) -> dict[str, object]:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # our http URL
        return json.loads(response.read())  # type: ignore[no-any-return]


def bench_database(database: str, work: Path, args: argparse.Namespace) -> None:
    print(f"\n## {database}")
    pg_name = None
    if database == "postgresql":
        pg_name = f"bench_{uuid.uuid4().hex[:10]}"
        timed(["psql", PG_SERVER, "-qc", f'CREATE DATABASE "{pg_name}"'])
        plain = PG_SERVER.rsplit("/", 1)[0] + f"/{pg_name}"
        driver = plain.replace("postgresql://", "postgresql+psycopg://", 1)
        sync_driver = driver
    else:
        db_file = work / f"{database}.db"
        plain = f"sqlite:///{db_file}"
        driver, sync_driver = f"sqlite+aiosqlite:///{db_file}", f"sqlite:///{db_file}"
    servers: list[Server] = []
    try:
        projects = {f: render(f, database, work / f"bench_{f}_{database}") for f in FRAMEWORKS}
        app_env = {
            **ENV,
            "DATABASE_URL": plain,
            "SECRET_KEY": SECRET_KEY,
            "ENVIRONMENT": "production",
            "LOG_LEVEL": "INFO",
        }
        fa_dir, fa_slug = projects["fastapi"]
        fl_dir, fl_slug = projects["flask"]
        timed([str(fa_dir / ".venv/bin/alembic"), "upgrade", "head"], cwd=fa_dir, env=app_env)
        timed(
            [
                str(fa_dir / ".venv/bin" / fa_slug),
                "create-user",
                "--email",
                EMAIL,
                "--password",
                PASSWORD,
            ],
            cwd=fa_dir,
            env=app_env,
        )
        base_env = {**ENV, "BENCH_SECRET_KEY": SECRET_KEY}
        servers = [
            Server(
                "fastapi",
                [
                    str(fa_dir / ".venv/bin" / fa_slug),
                    "serve",
                    "--workers",
                    "1",
                    "--port",
                    str(p := free_port()),
                ],
                fa_dir,
                app_env,
                p,
            ),
            Server(
                "fastapi-baseline",
                [
                    str(fa_dir / ".venv/bin/uvicorn"),
                    "fastapi_app:app",
                    "--workers",
                    "1",
                    "--port",
                    str(p := free_port()),
                ],
                BASELINES,
                {**base_env, "BENCH_DATABASE_URL": driver},
                p,
            ),
            Server(
                "flask",
                [
                    str(fl_dir / ".venv/bin" / fl_slug),
                    "serve",
                    "--workers",
                    "1",
                    "--port",
                    str(p := free_port()),
                ],
                fl_dir,
                app_env,
                p,
            ),
            Server(
                "flask-baseline",
                [
                    str(fl_dir / ".venv/bin/gunicorn"),
                    "flask_app:app",
                    "--workers",
                    "1",
                    "--worker-class",
                    "sync",
                    "--bind",
                    f"127.0.0.1:{(p := free_port())}",
                ],
                BASELINES,
                {**base_env, "BENCH_DATABASE_URL": sync_driver},
                p,
            ),
        ]
        for server in servers:
            server.start()
        form = urllib.parse.urlencode({"username": EMAIL, "password": PASSWORD}).encode()
        token = str(
            post_json(
                servers[0].url + "/api/v1/auth/token",
                form,
                {"Content-Type": "application/x-www-form-urlencoded"},
            )["access_token"]
        )
        auth = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        for i in range(100):
            body = json.dumps(
                {"name": f"item {i}", "description": "seed", "price": i + 0.5}
            ).encode()
            post_json(servers[0].url + "/api/v1/items", body, auth)
        for server in servers:  # warm-up: imports, connections, caches
            for path, script in ENDPOINTS.values():
                wrk(server.url + path, script, 1, args.connections, token)
        for rep in range(args.reps):
            for endpoint, (path, script) in ENDPOINTS.items():
                order = servers[rep % 4 :] + servers[: rep % 4]
                for server in order:
                    cpu_before = server.cpu_seconds()
                    result = wrk(server.url + path, script, args.duration, args.connections, token)
                    # CPU per request: robust against other load on a shared machine.
                    used = server.cpu_seconds() - cpu_before
                    result["cpu_us"] = used / max(result["requests"], 1.0) * 1e6
                    server.runs.setdefault(endpoint, []).append(result)
        print(f"load average after the runs (1/5/15 min): {load_average()}")
        for endpoint in ENDPOINTS:
            print(f"\n### {endpoint}  ({database})")
            for server in servers:
                runs = server.runs[endpoint]
                bad = sum(r["non_2xx"] for r in runs)
                print(
                    f"{server.name:17} rps {summary([r['rps'] for r in runs], '', 0)}"
                    f" | p50 {statistics.median(r['p50_ms'] for r in runs):.2f} ms"
                    f" | p99 {statistics.median(r['p99_ms'] for r in runs):.2f} ms"
                    f" | server CPU/request {summary([r['cpu_us'] for r in runs], 'us', 0)}"
                    + (f" | NON-2XX {bad:.0f}" if bad else "")
                )
            rps = {s.name: statistics.median(r["rps"] for r in s.runs[endpoint]) for s in servers}
            print(
                f"ratio fastapi / fastapi-baseline: {rps['fastapi'] / rps['fastapi-baseline']:.2f}"
            )
            print(f"ratio flask / flask-baseline:     {rps['flask'] / rps['flask-baseline']:.2f}")
            print(f"ratio fastapi / flask:            {rps['fastapi'] / rps['flask']:.2f}")
            cpu = {
                s.name: statistics.median(r["cpu_us"] for r in s.runs[endpoint]) for s in servers
            }
            print(
                "CPU/request ratios (baseline / flavor: above 1 means the flavor is cheaper):"
                f" fastapi {cpu['fastapi-baseline'] / cpu['fastapi']:.2f},"
                f" flask {cpu['flask-baseline'] / cpu['flask']:.2f},"
                f" flask/fastapi {cpu['flask'] / cpu['fastapi']:.2f}"
            )
        print(f"\n### memory after the load ({database})")
        for server in servers:
            mib, count = server.rss_mib()
            print(f"{server.name:17} {mib:.1f} MiB RSS over {count} process(es)")
    finally:
        for server in servers:
            server.stop()
        if pg_name is not None:
            subprocess.run(
                ["psql", PG_SERVER, "-qc", f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'],
                check=False,
                capture_output=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    header("Throughput: generated production servers vs hand-written baselines (wrk)")
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration}s, {args.reps} repetitions;"
        " one worker process per server; the Flask flavor's gunicorn worker class and threads"
        " are whatever its `serve` uses (see its server.py)"
    )
    work = Path(tempfile.mkdtemp(prefix="scaffold-bench-rps-"))
    try:
        for database in args.db.split(","):
            bench_database(database, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    footer()


if __name__ == "__main__":
    main()
