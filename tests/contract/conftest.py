"""Render, install and serve each framework of the template for the API contract suite.

Every test in this package runs, over real HTTP, against the *production* server of a
project rendered from the same answers once per framework (``flask`` and ``fastapi``). The
assertions never branch on the framework: both must serve the identical API
(/work/shared/API-CONTRACT.md).

Login attempts are rate limited per client address (AUTH_RATE_LIMIT). Both servers
listen on 127.0.0.1, and Linux routes all of 127.0.0.0/8 to the loopback interface, so
every login a test makes goes out from its own source address (127.0.0.N): no test eats
another's budget, whatever the order the tests run in. The rate-limit test itself gets a
fresh server (fresh counters), and the fuzzer gets its own server and database with a
limit it never reaches.

The servers run on SQLite; the tests marked ``every_database`` (the item rows, the inputs
PostgreSQL would choke on, the fuzzing) on PostgreSQL too (CONTRACT_POSTGRES_URL, default the
local server): each PostgreSQL run creates its own databases and drops them after.
"""

from __future__ import annotations

import collections
import contextlib
import email.policy
import itertools
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg
import pytest
import redis
import uv
from psycopg import sql

from scaffold import copier_bridge, gitrepo
from scaffold.questionnaire import frameworks
from scaffold.resource import add_resource
from scaffold.toolenv import project_env
from tests.helpers import free_port, stop_process

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every framework the template renders (copier.yml's `framework` choices).
FRAMEWORKS = frameworks(REPO_ROOT / "copier.yml")
PROJECT_SLUG = "contract-check"
PACKAGE_NAME = PROJECT_SLUG.replace("-", "_")
# The same answers for both frameworks; only `framework` differs. PostgreSQL's projects have
# the drivers of both databases (SQLite's for their tests): one install serves both.
# What `scaffold add resource` adds to every project of the suite (test_resources.py).
RESOURCES = [
    ("Customer", "name:str:80", "vip:bool"),
    ("Order", "customer:ref:Customer", "total:decimal", "note:text?", "shipped_on:date?"),
]
ANSWERS: dict[str, Any] = {
    "project_name": "Contract Check",
    "database": "postgresql",
    "admin": True,
    "docker": False,
    "ci": "none",
}
CONTRACT_RATE_LIMIT = "5/minute"
RATE_LIMIT_ATTEMPTS = 5
FUZZ_RATE_LIMIT = "10000/minute"
INSTALL_TIMEOUT = 600.0
COMMAND_TIMEOUT = 180.0
STARTUP_TIMEOUT = 60.0
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 (a URL, not a password)

# Fuzzed requests per framework, filled in by test_fuzz.py, printed in the terminal summary.
FUZZ_REQUESTS: collections.Counter[str] = collections.Counter()
# WebSocket events received and checked by test_websocket.py, per framework.
EVENTS_RECEIVED: collections.Counter[str] = collections.Counter()
# Passed assert statements of test_contract.py, counted only with
# `-o enable_assertion_pass_hook=true`
# (pytest calls pytest_assertion_pass only then; delete a stale __pycache__ first).
PASSED_ASSERTS: collections.Counter[str] = collections.Counter()


def pytest_assertion_pass(item: pytest.Item, lineno: int, orig: str, expl: str) -> None:
    # Only the contract tests' own asserts (schemathesis, a pytest plugin, has asserts
    # rewritten too; they would swamp the count in the fuzz tests).
    if item.path.name != "test_contract.py":
        return
    callspec = getattr(item, "callspec", None)
    framework = callspec.params.get("project", "?") if callspec is not None else "?"
    PASSED_ASSERTS[str(framework)] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if PASSED_ASSERTS:
        counts = ", ".join(f"{framework}: {n}" for framework, n in sorted(PASSED_ASSERTS.items()))
        terminalreporter.write_line(f"contract suite: passed assertions per framework: {counts}")
    if EVENTS_RECEIVED:
        counts = ", ".join(f"{framework}: {n}" for framework, n in sorted(EVENTS_RECEIVED.items()))
        terminalreporter.write_line(f"contract WebSocket events received per framework: {counts}")
    if FUZZ_REQUESTS:
        counts = ", ".join(f"{framework}: {n}" for framework, n in sorted(FUZZ_REQUESTS.items()))
        terminalreporter.write_line(f"contract fuzzing: HTTP requests sent per framework: {counts}")


# --- databases -------------------------------------------------------------------------

DATABASES = ["sqlite", "postgresql"]
POSTGRES_SERVER = os.environ.get("CONTRACT_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
EVERY_DATABASE = "every_database"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{EVERY_DATABASE}: a contract test that runs on SQLite and on PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test on a server runs on SQLite; those marked every_database on PostgreSQL too."""
    if "database_kind" in metafunc.fixturenames:
        kinds = DATABASES if metafunc.definition.get_closest_marker(EVERY_DATABASE) else ["sqlite"]
        metafunc.parametrize("database_kind", kinds, indirect=True, scope="session")


@pytest.fixture(scope="session")
def database_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@dataclass(frozen=True)
class Database:
    """A database a server uses: a SQLite file, or a PostgreSQL database of this run's own."""

    kind: str
    url: str  # the DATABASE_URL the project gets
    path: Path | None = None  # SQLite's file

    @classmethod
    def create(cls, kind: str, directory: Path, name: str) -> Database:
        if kind == "sqlite":
            path = directory / f"{name}.db"
            return cls(kind, f"sqlite:///{path}", path)
        database = f"contract_{uuid.uuid4().hex[:12]}_{name}"
        with _postgres("postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return cls(kind, f"{POSTGRES_SERVER}/{database}")

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[1]

    def copy(self, name: str) -> Database:
        """A copy with its own name (the servers each get one of the prepared database)."""
        if self.path is not None:
            path = shutil.copyfile(self.path, self.path.with_name(f"{name}.db"))
            return Database(self.kind, f"sqlite:///{path}", path)
        database = f"{self.name}_{name}"
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}")
        with _postgres("postgres") as conn:
            conn.execute(statement.format(sql.Identifier(database), sql.Identifier(self.name)))
        return Database(self.kind, f"{POSTGRES_SERVER}/{database}")

    def drop(self) -> None:
        if self.path is None:
            statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            with _postgres("postgres") as conn:
                conn.execute(statement.format(sql.Identifier(self.name)))

    def execute(self, statement: str, *params: object) -> tuple[Any, ...] | None:
        """Run one statement (``?`` placeholders) behind the server's back; its first row."""
        if self.path is not None:
            with contextlib.closing(sqlite3.connect(self.path)) as conn, conn:
                row: tuple[Any, ...] | None = conn.execute(statement, params).fetchone()
                return row
        with _postgres(self.name) as server:
            cursor = server.execute(statement.replace("?", "%s"), params)
            return cursor.fetchone() if cursor.description else None


def _postgres(database: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(f"{POSTGRES_SERVER}/{database}", autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        pytest.fail(f"no PostgreSQL at {POSTGRES_SERVER} for the contract tests: {exc}")


# --- users -----------------------------------------------------------------------------


class _TlsProxyTransport(httpx.HTTPTransport):
    """Plays the TLS-terminating proxy a production server sits behind.

    The production session cookies are (rightly) Secure, and a client will not send them
    back over the plain HTTP this suite uses; the proxy's client would, over HTTPS.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        headers = [
            (name, _without_secure(value) if name.lower() == "set-cookie" else value)
            for name, value in response.headers.multi_items()
        ]
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=response.stream,
            extensions=response.extensions,
            request=request,
        )


def _without_secure(set_cookie: str) -> str:
    return "; ".join(part for part in set_cookie.split("; ") if part.lower() != "secure")


@dataclass(frozen=True)
class Credentials:
    email: str
    password: str
    superuser: bool = False


SUPERUSER = Credentials("admin@example.com", "Admin-pass-0001", superuser=True)
USER = Credentials("user@example.com", "User-pass-0001")
# Another normal user: neither owner nor superuser of USER's items.
STRANGER = Credentials("stranger@example.com", USER.password)
# Deactivated (directly in the database) by the tests that need it.
INACTIVE = Credentials("inactive@example.com", USER.password)
# Deleted (directly in the database) by the tests that need it.
DOOMED = Credentials("doomed@example.com", USER.password)


# --- processes -------------------------------------------------------------------------


def base_env() -> dict[str, str]:
    """The environment every command of the generated project runs in: scaffold's own
    (nothing of the caller's virtualenv or project settings), without colours."""
    return project_env({"NO_COLOR": "1"})


@dataclass
class Project:
    framework: str
    path: Path
    uv_bin: str

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = COMMAND_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the project; fail the test with its output if it fails."""
        cmd = [self.uv_bin, *args]
        proc = subprocess.run(
            cmd,
            cwd=self.path,
            env=env or base_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            pytest.fail(
                f"[{self.framework}] `{' '.join(cmd)}` exited with {proc.returncode}\n"
                f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}",
                pytrace=False,
            )
        return proc

    def database_env(self, database: Database, **extra: str) -> dict[str, str]:
        env = base_env()
        env["DATABASE_URL"] = database.url
        env.update(extra)
        return env

    def prepare_database(self, database: Database) -> None:
        """Migrate a fresh database and create the test users, with the project's own code.

        The superuser and the normal user come from the management CLI; the other three
        (stranger, inactive, doomed) are made by the project's models with the normal
        user's password hash, in one run (three CLI runs would hash three times).
        """
        env = self.database_env(database)
        self.run("run", "alembic", "upgrade", "head", env=env)
        for user in (SUPERUSER, USER):
            args = ["--email", user.email, "--password", user.password]
            if user.superuser:
                args.append("--superuser")
            self.run("run", PROJECT_SLUG, "create-user", *args, env=env)
        copies = [user.email for user in (STRANGER, INACTIVE, DOOMED)]
        script = COPY_USERS.format(package=PACKAGE_NAME)
        self.run("run", "python", "-c", script, USER.email, *copies, env=env)


# Run by the project's Python: users with another user's password hash, through its models.
COPY_USERS = """
import sys
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from {package}.models import User
from {package}.settings import Settings

engine = create_engine(Settings(environment="testing").sync_database_url)
with Session(engine) as session, session.begin():
    model = session.scalars(select(User).where(User.email == sys.argv[1])).one()
    for email in sys.argv[2:]:
        session.add(User(email=email, hashed_password=model.hashed_password))
engine.dispose()
"""


def loopback_addresses() -> Iterator[str]:
    """127.0.0.2, 127.0.0.3, ...: distinct client addresses for the rate limit."""
    for a, b in itertools.product(range(0, 256), range(2, 255)):
        yield f"127.0.{a}.{b}"


@dataclass
class Server:
    """A running production server of one rendered project."""

    project: Project
    database: Database
    secret_key: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _addresses: Iterator[str] = field(default_factory=loopback_addresses)
    _tokens: dict[str, str] = field(default_factory=dict)
    _ids: dict[str, int] = field(default_factory=dict)
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def framework(self) -> str:
        return self.project.framework

    @property
    def project_dir(self) -> Path:
        return self.project.path

    superuser = SUPERUSER
    user = USER
    stranger = STRANGER
    inactive = INACTIVE
    doomed = DOOMED

    def output(self) -> str:
        if not self.log_path.is_file():
            return f"(no output: {self.log_path} is missing)"
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    # -- clients ---------------------------------------------------------------------

    def client(
        self, *, fresh_address: bool = False, behind_tls_proxy: bool = False, **kwargs: Any
    ) -> httpx.Client:
        """An HTTP client for this server, closed with the server.

        ``fresh_address=True`` connects from a client address no other client used, so the
        login rate limit starts from zero for it. ``behind_tls_proxy=True`` does too, and
        keeps the production server's Secure cookies usable over plain HTTP.
        """
        transport = None
        if fresh_address:
            transport = httpx.HTTPTransport(local_address=self.next_address())
        if behind_tls_proxy:
            transport = _TlsProxyTransport(local_address=self.next_address())
        client = httpx.Client(base_url=self.base_url, transport=transport, timeout=30.0, **kwargs)
        self._clients.append(client)
        return client

    def next_address(self) -> str:
        return next(self._addresses)

    def login(self, email: str, password: str) -> httpx.Response:
        """POST the token form from a fresh client address."""
        with self.client(fresh_address=True) as client:
            return client.post(TOKEN_URL, data={"username": email, "password": password})

    def token(self, who: Credentials) -> str:
        """A real access token for ``who``, obtained through the login endpoint (cached)."""
        if who.email not in self._tokens:
            response = self.login(who.email, who.password)
            assert response.status_code == 200, (
                f"[{self.framework}] login as {who.email} failed: {response.status_code} "
                f"{response.text}"
            )
            self._tokens[who.email] = response.json()["access_token"]
        return self._tokens[who.email]

    def auth(self, who: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(who)}"}

    def user_id(self, who: Credentials) -> int:
        """The id of ``who``, read from the database the server uses."""
        if who.email not in self._ids:
            row = self.database.execute("SELECT id FROM users WHERE email = ?", who.email)
            assert row is not None, f"no user {who.email} in {self.database.url}"
            self._ids[who.email] = int(row[0])
        return self._ids[who.email]

    def craft_token(
        self,
        sub: object,
        *,
        expires_in: timedelta = timedelta(minutes=30),
        key: str | None = None,
        **claims: Any,
    ) -> str:
        """An HS256 JWT signed with the server's SECRET_KEY (or ``key``)."""
        now = datetime.now(UTC)
        payload: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + expires_in, **claims}
        return jwt.encode(payload, key or self.secret_key, algorithm="HS256")

    def execute_sql(self, statement: str, *params: object) -> None:
        """Change the server's database behind its back (deactivate or delete users)."""
        self.database.execute(statement, *params)

    # -- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        stop_process(self.process)


def start_server(
    project: Project,
    database: Database,
    *,
    rate_limit: str,
    name: str,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> Server:
    """Start ``<slug> serve`` in production mode and wait until GET /health answers 200."""
    port = free_port()
    secret_key = secrets.token_hex(32)
    env = project.database_env(
        database,
        ENVIRONMENT="production",
        SECRET_KEY=secret_key,
        AUTH_RATE_LIMIT=rate_limit,
        **(extra_env or {}),
    )
    log_path = project.path.parent / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                project.uv_bin,
                "run",
                PROJECT_SLUG,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=project.path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own process group: stop_process() ends the server and all its workers.
            start_new_session=True,
        )
    server = Server(
        project=project,
        database=database,
        secret_key=secret_key,
        base_url=f"http://127.0.0.1:{port}",
        process=process,
        log_path=log_path,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no answer yet"
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"[{project.framework}] the server exited with {process.returncode} before "
                f"GET /health answered.\n--- server output ---\n{server.output()}",
                pytrace=False,
            )
        try:
            response = httpx.get(f"{server.base_url}/health", timeout=5.0)
        except httpx.HTTPError as exc:
            last_error = repr(exc)
        else:
            if response.status_code == 200:
                return server
            last_error = f"{response.status_code} {response.text[:500]}"
        if time.monotonic() > deadline:
            stop_process(process)
            pytest.fail(
                f"[{project.framework}] GET /health did not answer 200 within"
                f" {STARTUP_TIMEOUT:.0f}s "
                f"(last: {last_error}).\n--- server output ---\n{server.output()}",
                pytrace=False,
            )
        time.sleep(0.25)


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session", params=FRAMEWORKS, ids=FRAMEWORKS)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The template rendered (with scaffold's copier_bridge, the checkout at HEAD) and installed."""
    framework: str = request.param
    return render_project(framework, tmp_path_factory.mktemp(f"contract-{framework}"))


def render_project(framework: str, root: Path, **answers: Any) -> Project:
    """Render the checkout at HEAD into ``root`` with ANSWERS (and ``answers`` over them),
    then install it."""
    dst = root / PROJECT_SLUG
    copier_bridge.copy(
        str(REPO_ROOT),
        dst,
        {"framework": framework, **ANSWERS, **answers},
        vcs_ref="HEAD",
        defaults=True,
        pretend=False,
    )
    # The resources of test_resources.py, added as `scaffold add resource` adds them.
    gitrepo.init_and_commit(dst, "Rendered for the contract suite")
    for name, *fields in RESOURCES:
        add_resource(name, fields=fields, project=dst)
    project = Project(framework=framework, path=dst, uv_bin=uv.find_uv_bin())
    project.run("sync", timeout=INSTALL_TIMEOUT)
    return project


@pytest.fixture(scope="session")
def database(
    project: Project, database_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database with the test users; the servers get copies of it."""
    directory = tmp_path_factory.mktemp(f"databases-{project.framework}")
    database = Database.create(database_kind, directory, project.framework)
    try:
        project.prepare_database(database)
        yield database
    finally:
        database.drop()


@contextlib.contextmanager
def served(project: Project, database: Database, name: str, **options: Any) -> Iterator[Server]:
    """A server (start_server's options) on a copy of ``database`` of its own, dropped after."""
    copy = database.copy(name)
    try:
        server = start_server(project, copy, name=name, **options)
        try:
            yield server
        finally:
            server.stop()
    finally:
        copy.drop()


# --- e-mail: a real SMTP server the servers send to (test_accounts.py) ---------------------

MAIL_TIMEOUT = 30.0
# PASSWORD_RESET_URL of the servers: the reset e-mail's link.
RESET_LINK = "http://contract.invalid/reset-password#token={token}"


@dataclass
class Mailbox:
    """What the SMTP server (aiosmtpd, in this process) received from the servers."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [message for message in self.messages if message["To"] == address]

    def wait_for(self, address: str, timeout: float = MAIL_TIMEOUT) -> EmailMessage:
        """The first message to ``address``; the test fails when none comes in time."""
        deadline = time.monotonic() + timeout
        while not self.to(address):
            if time.monotonic() > deadline:
                pytest.fail(f"no e-mail to {address} within {timeout:.0f}s", pytrace=False)
            time.sleep(0.05)
        return self.to(address)[0]

    def env(self) -> dict[str, str]:
        """The settings that send a server's e-mail here."""
        return {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.port),
            "SMTP_TLS": "none",
            "EMAIL_FROM": "Contract Check <noreply@contract.invalid>",
            "PASSWORD_RESET_URL": RESET_LINK,
        }


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    from aiosmtpd.controller import Controller

    box = Mailbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest.fixture(scope="session")
def server(project: Project, database: Database, mailbox: Mailbox) -> Iterator[Server]:
    """The production server the contract tests talk to (AUTH_RATE_LIMIT=5/minute), open to
    signups, its e-mail going to the `mailbox`."""
    env = {"REGISTRATION_OPEN": "true", **mailbox.env()}
    with served(
        project, database, "contract", rate_limit=CONTRACT_RATE_LIMIT, extra_env=env
    ) as server:
        yield server


@pytest.fixture
def fresh_server(server: Server) -> Iterator[Server]:
    """A second server on the same project and database, with fresh rate-limit counters (and
    the default settings otherwise: registration closed)."""
    fresh = start_server(
        server.project, server.database, rate_limit=CONTRACT_RATE_LIMIT, name="fresh"
    )
    yield fresh
    fresh.stop()


@pytest.fixture(scope="session")
def fuzz_server(project: Project, database: Database, mailbox: Mailbox) -> Iterator[Server]:
    """A server with its own database and a login limit the fuzzer never reaches, open to
    signups, its e-mail going to the `mailbox`."""
    env = {"REGISTRATION_OPEN": "true", **mailbox.env()}
    with served(project, database, "fuzz", rate_limit=FUZZ_RATE_LIMIT, extra_env=env) as server:
        yield server


# --- WebSocket events (test_websocket.py) ------------------------------------------------

# WS_MAX_CONNECTIONS of the capped server: small, so that the test reaches it quickly.
WS_MAX_CONNECTIONS = 4


@pytest.fixture(scope="session")
def capped_server(project: Project, database: Database) -> Iterator[Server]:
    """One worker process that holds at most WS_MAX_CONNECTIONS WebSocket connections."""
    with served(
        project,
        database,
        "capped",
        rate_limit=FUZZ_RATE_LIMIT,
        extra_env={"WS_MAX_CONNECTIONS": str(WS_MAX_CONNECTIONS)},
    ) as server:
        yield server


REDIS_SERVER = "redis://127.0.0.1:6379"
EVENT_WORKERS = 2
# The generated projects' Redis channel for item events (src/<package>/events.py).
EVENT_CHANNEL = "{package}:db{database}:item-events"


@dataclass
class EventServer:
    """A production server with two worker processes that share item events through Redis."""

    server: Server
    redis_url: str
    channel: str


def unused_redis_database() -> int:
    """A Redis database number whose item-event channel no other run listens on.

    Pub/sub ignores database numbers, but the generated projects name their channel after
    the database in REDIS_URL: a number nobody listens on keeps this run's events its own
    while other contract runs share the machine's Redis.
    """
    client = redis.Redis.from_url(REDIS_SERVER)
    numbers = list(range(1, 16))
    random.shuffle(numbers)  # two runs starting together rarely try the same number first
    try:
        for number in numbers:
            channel = EVENT_CHANNEL.format(package=PACKAGE_NAME, database=number)
            [(_, listeners)] = client.pubsub_numsub(channel)
            if listeners == 0:
                return number
    except redis.ConnectionError as exc:
        pytest.fail(f"no Redis at {REDIS_SERVER} for the WebSocket tests: {exc}", pytrace=False)
    finally:
        client.close()
    pytest.fail("every Redis database has item-event listeners already", pytrace=False)


@pytest.fixture(scope="session")
def event_server(project: Project, database: Database) -> Iterator[EventServer]:
    """``serve --workers 2`` with REDIS_URL set and metrics on, its own database and an
    unreachable login limit."""
    number = unused_redis_database()
    redis_url = f"{REDIS_SERVER}/{number}"
    with served(
        project,
        database,
        "events",
        rate_limit=FUZZ_RATE_LIMIT,
        workers=EVENT_WORKERS,
        # /metrics too: its counts must add up over both workers (test_contract.py).
        extra_env={"REDIS_URL": redis_url, "METRICS_ENABLED": "true"},
    ) as server:
        channel = EVENT_CHANNEL.format(package=PACKAGE_NAME, database=number)
        # /health answers as soon as one worker is up; the other may not have subscribed
        # yet, and an event published before it has would not reach its clients.
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        try:
            while client.pubsub_numsub(channel)[0][1] < EVENT_WORKERS:
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"[{project.framework}] not all {EVENT_WORKERS} workers subscribed to"
                        f" {channel} within {STARTUP_TIMEOUT:.0f}s",
                        pytrace=False,
                    )
                time.sleep(0.05)
        finally:
            client.close()
        yield EventServer(server=server, redis_url=redis_url, channel=channel)
