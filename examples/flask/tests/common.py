"""Fixtures shared by both template flavors; each flavor's conftest adds `app` and `client`.

Building an app (its routes, OpenAPI schemas and admin views) costs far more than a test, and
so does building a schema: both are built once per run and shared.
- One database with the models' tables per run (SQLite: a file; PostgreSQL, when
  TEST_DATABASE_URL names a server: a database created for this run and dropped at its end).
  The `engine` fixture empties its tables after every test that used it (ids start at 1
  again), so every test starts with an empty database.
- Tests that build their own schema (migrations) get an empty database instead: a fresh
  SQLite file, or a second PostgreSQL database of this run's.
- One app per distinct `Settings`, built on first use: the flavor's `app` fixture hands it
  out and resets what an app keeps between requests (the login rate limiter's counts). A
  test that adds routes to an app takes `fresh_app`, an app of its own.
- The admin's compiled templates are kept in pytest's cache directory between runs.
- The apps send their e-mail to a real SMTP server on localhost (aiosmtpd), started on first
  use by the `mailbox` fixture, which hands out the messages it received.
- What lives to the end of the run (the imported modules, the collected tests, each app) is
  frozen out of the garbage collector's sight (`gc.freeze`): its full collections, the run's
  and the ones pytest makes at its end, no longer walk it (they were a fifth of the run). The
  collector is off while the tests are collected (tests/__init__.py).
"""

import email.policy
import gc
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import pytest
from jinja2 import BytecodeCache, FileSystemBytecodeCache
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, create_engine, delete, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from example import admin_sessions, mail, security
from example.models import Base, User
from example.security import create_access_token, hash_password
from example.settings import Settings
from example.sqlite import configure_sqlite

# The tests run with ENVIRONMENT=testing, whatever the shell or .env says: the code that reads
# the settings itself (the command line) needs no SECRET_KEY then.
os.environ["ENVIRONMENT"] = "testing"

DEFAULT_PASSWORD = "correct horse battery staple"
# What a view may raise when the database is gone (503), and a database error that is a bug.
DATABASE_ERRORS = pytest.mark.parametrize(
    ("error", "status"),
    [
        (DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True), 503),
        (OperationalError("SELECT 1", None, Exception("server closed the connection")), 503),
        (PoolTimeout("no connection free"), 503),
        (ConnectionRefusedError(111, "Connect call failed"), 503),
        (TimeoutError(), 503),
        (IntegrityError("INSERT", None, Exception("duplicate key")), 500),
    ],
    ids=["lost-connection", "operational", "pool-timeout", "refused", "timeout", "a-bug"],
)
TEST_SECRET_KEY = "test-secret-key-0123456789abcdef0123456789abcdef"


class MakeUser(Protocol):
    def __call__(
        self,
        email: str,
        password: str = DEFAULT_PASSWORD,
        *,
        is_superuser: bool = False,
        is_active: bool = True,
    ) -> int: ...


class Login(Protocol):
    def __call__(self, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]: ...


class AdminLogin(NamedTuple):
    """An admin session the tests started without the login form (`log_in_admin`)."""

    cookie: dict[str, str]  # its session cookie, as a Cookie header (to replay it)
    csrf_token: str  # the token the admin's model forms take


class LogInAdmin(Protocol):
    def __call__(self, user_id: int) -> AdminLogin: ...


def start_admin_session(engine: Engine, user_id: int) -> str:
    """A session of `user_id` on the server, started as the admin's login starts one
    (admin_sessions.start): the token its cookie holds."""
    token, row, expired = admin_sessions.start(user_id)
    with Session(engine) as session, session.begin():
        session.execute(expired)
        session.add(row)
    return token


class ApiClient(Protocol):
    """The slice of httpx's client interface the shared tests use.

    The FastAPI flavor's client is an httpx client; the Flask flavor wraps Flask's test client.
    Responses are httpx-like: .status_code, .json(), .headers, .text, .content.
    """

    def get(self, url: str, **kwargs: Any) -> Any: ...
    def post(self, url: str, **kwargs: Any) -> Any: ...
    def patch(self, url: str, **kwargs: Any) -> Any: ...
    def delete(self, url: str, **kwargs: Any) -> Any: ...


def auth_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The authentication events (ratelimit.py) caplog holds, as structlog's event dicts."""
    return [
        record.msg
        for record in caplog.records
        if record.name.endswith(".auth") and isinstance(record.msg, dict)
    ]


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Still Argon2, at its lowest cost: the production cost would make up most of the run time."""
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_password_hash", cheap)
        patch.setattr(security, "_DUMMY_HASH", cheap.hash("dummy password, never matches"))
        yield


def _server_database(with_schema: bool) -> Iterator[str | None]:
    """A PostgreSQL database of this test run's own, when TEST_DATABASE_URL names a server."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        yield None
        return
    settings = Settings(database_url=server_url)
    admin_url = make_url(settings.sync_database_url).set(database="postgres")
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        if with_schema:
            _create_schema(Settings(database_url=url).sync_database_url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _create_schema(sync_url: str) -> None:
    engine = create_engine(sync_url)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def server_database_url() -> Iterator[str | None]:
    """An empty PostgreSQL database for this run (tests that build their own schema)."""
    yield from _server_database(with_schema=False)


@pytest.fixture(scope="session")
def schema_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's database with the models' tables, emptied after each test (see `engine`)."""
    server_url = _server_database(with_schema=True)
    url = next(server_url)
    if url is None:
        path = tmp_path_factory.mktemp("schema") / "test.db"
        url = f"sqlite:///{path}"
        _create_schema(url)
    yield url
    next(server_url, None)  # drops the PostgreSQL database


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """This test's database: the run's, with the tables, if the test uses the `engine` (or an
    app, which does); else an empty one."""
    if "engine" in request.fixturenames:
        schema_url: str = request.getfixturevalue("schema_database_url")
        return schema_url
    server_url: str | None = request.getfixturevalue("server_database_url")
    if server_url is not None:
        return server_url
    # Asked for only here: a temporary directory per test costs more than many a test.
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def root_logger_kept() -> Iterator[None]:
    """The root logger's handlers and level as they were, after a test that configures
    logging (as create_app does)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test (e.g. with parametrize) to change a setting for that test's app."""
    return {}


@pytest.fixture
def settings(database_url: str, smtp_port: int, settings_overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {
        "environment": "testing",
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "auth_rate_limit": "1000/minute",
        "cors_origins": ["http://localhost:3000"],
        "registration_open": True,
        "smtp_host": SMTP_HOST,
        "smtp_port": smtp_port,
        "password_reset_url": "https://app.example.com/reset-password#token={token}",
        # No access log line per request (the tests of the log ask for INFO).
        "log_level": "WARNING",
        # The tests bring their own Redis (fakeredis) where they need one: a REDIS_URL in the
        # environment (a developer's shell, a CI job's services) must not reach the others.
        "redis_url": None,
        **settings_overrides,
    }
    # One Settings per distinct values, as for the apps: building one (it reads the
    # environment) costs more than many a test. _env_file=None: a developer's .env must not
    # leak into the tests.
    key = repr(sorted(values.items()))
    if key not in _settings:
        _settings[key] = Settings(**values, _env_file=None)
    return _settings[key]


_settings: dict[str, Settings] = {}


@pytest.fixture(scope="session")
def _schema_engine(schema_database_url: str) -> Iterator[Engine]:
    engine = create_engine(Settings(database_url=schema_database_url).sync_database_url)
    if engine.dialect.name == "sqlite":
        # As the app's engines do: commits wait for no fsync.
        event.listen(engine, "connect", configure_sqlite)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(_schema_engine: Engine) -> Iterator[Engine]:
    """The run's database, its tables there and empty; emptied again after the test."""
    yield _schema_engine
    tables = Base.metadata.sorted_tables
    with _schema_engine.begin() as connection:
        if _schema_engine.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # SQLite gives the next row max(id) + 1: ids start at 1 again in empty tables.
            for table in reversed(tables):
                connection.execute(delete(table))


@pytest.fixture(scope="session")
def template_cache(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> BytecodeCache:
    """Jinja's compiled templates (the admin's pages), kept from run to run in pytest's cache
    directory: compiling them is most of the first admin test's time. Jinja checks each
    entry against its template's source, so an upgraded library's templates compile again."""
    if pytestconfig.pluginmanager.has_plugin("cacheprovider"):
        directory = pytestconfig.cache.mkdir("jinja-bytecode")
    else:  # -p no:cacheprovider
        directory = tmp_path_factory.mktemp("jinja-bytecode")
    return FileSystemBytecodeCache(str(directory))


# Argon2 is deliberately slow; hash each distinct password once per test run.
_hashes: dict[str, str] = {}


@pytest.fixture
def make_user(engine: Engine) -> MakeUser:
    def make(
        email: str,
        password: str = DEFAULT_PASSWORD,
        *,
        is_superuser: bool = False,
        is_active: bool = True,
    ) -> int:
        if password not in _hashes:
            _hashes[password] = hash_password(password)
        with Session(engine) as session, session.begin():
            user = User(
                email=email,
                hashed_password=_hashes[password],
                is_superuser=is_superuser,
                is_active=is_active,
            )
            session.add(user)
            session.flush()
            return user.id

    return make


@pytest.fixture
def login(client: ApiClient) -> Login:
    def do_login(email: str, password: str = DEFAULT_PASSWORD) -> dict[str, str]:
        response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return do_login


def bearer(user_id: int, settings: Settings) -> dict[str, str]:
    """A user's Authorization header, with a token such as the login issues (test_auth.py
    tests the login itself; a login per test would cost more than most tests)."""
    token = create_access_token(user_id, settings.secret_key, settings.access_token_expire_minutes)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def user_headers(make_user: MakeUser, settings: Settings) -> dict[str, str]:
    return bearer(make_user("user@example.com"), settings)


@pytest.fixture
def superuser_headers(make_user: MakeUser, settings: Settings) -> dict[str, str]:
    return bearer(make_user("admin@example.com", is_superuser=True), settings)


# --- the server's worker -------------------------------------------------------------------


@dataclass
class ServedApp:
    """What a server's worker did to build the app it serves, in order ("app": create_app,
    "tuned...": memory.tune_gc), and the stand-in create_app returned."""

    app: Any = field(default_factory=object)
    steps: list[str] = field(default_factory=list)


@pytest.fixture
def served_app(monkeypatch: pytest.MonkeyPatch) -> ServedApp:
    served = ServedApp()

    def create_app() -> Any:
        served.steps.append("app")
        return served.app

    def tune_gc(young_threshold: int | None = None) -> None:
        served.steps.append(f"tuned, young threshold {young_threshold}")

    monkeypatch.setattr("example.app.create_app", create_app)
    monkeypatch.setattr("example.server.tune_gc", tune_gc)
    return served


# --- after collection: coverage's threshold, the garbage collector ---------------------------

# Set when a run leaves tests out (-k, -m, --deselect, --sw...).
_DESELECTED = pytest.StashKey[bool]()


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[_DESELECTED] = True


def pytest_collection_finish(session: pytest.Session) -> None:
    # The coverage threshold in pyproject.toml (--cov-fail-under) is the whole suite's: a
    # run of some tests (files or tests named on the command line, -k, -m, --lf...) reports
    # coverage without failing on it, or every edit-and-test loop would end in a failure.
    config = session.config
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    if not whole_suite or config.getoption("lf", False) or config.stash.get(_DESELECTED, False):
        # pytest-cov reads its options from the namespace of pytest's first parse.
        config.known_args_namespace.cov_fail_under = None
    # The imported modules and the collected tests live to the end of the run: the garbage
    # collector, off while they were imported (tests/__init__.py), stops looking at them and
    # is back on for what the tests make.
    gc.freeze()
    gc.enable()


# --- e-mail: a real SMTP server on localhost -----------------------------------------------

SMTP_HOST = "127.0.0.1"


# How long the tests wait for the app's mail thread: longer than one send can take.
SETTLE_SECONDS = mail.TIMEOUT_SECONDS + 5


def settle() -> None:
    """Wait until the app's mail thread (mail.py) has sent, or given up on, every e-mail it
    was handed: the apps send after the response, from a thread of their own."""
    assert mail.outbox.flush(timeout=SETTLE_SECONDS), "the mail thread is still sending"


@dataclass
class Mailbox:
    """What the tests' SMTP server received, once the app's mail thread has sent what it was
    handed: each message as the recipient's mail reader would parse it, and its envelope."""

    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)

    @property
    def messages(self) -> list[EmailMessage]:
        settle()
        return self.received

    @property
    def recipients(self) -> list[list[str]]:
        settle()
        return self.envelopes

    def only_message(self) -> EmailMessage:
        assert len(self.messages) == 1, [message["Subject"] for message in self.messages]
        return self.messages[0]


@dataclass
class Receiver:
    """aiosmtpd's handler, which puts what arrives into a mailbox (kept apart from it:
    aiosmtpd reads every attribute of its handler, and a Mailbox's wait for the mail thread)."""

    mailbox: Mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  # aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=email.policy.default)
        self.mailbox.received.append(message)
        self.mailbox.envelopes.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((SMTP_HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def smtp_port() -> int:
    """The port of the tests' SMTP server, in every app's settings (SMTP_PORT). Until a test
    asks for the `mailbox`, nothing listens there: mail sent then finds no server."""
    return free_port()


@pytest.fixture(scope="session")
def _smtp_server(smtp_port: int) -> Iterator[Mailbox]:
    # Imported here: only the runs with tests of e-mail pay for aiosmtpd.
    from aiosmtpd.controller import Controller

    mailbox = Mailbox(smtp_port)
    controller = Controller(Receiver(mailbox), hostname=SMTP_HOST, port=smtp_port)
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def mailbox(_smtp_server: Mailbox) -> Mailbox:
    """The tests' SMTP server, listening on SMTP_PORT, with no message yet."""
    settle()  # an earlier test's e-mail, still on its way, is not this test's
    _smtp_server.received.clear()
    _smtp_server.envelopes.clear()
    return _smtp_server
