"""Fixtures shared by both template flavors; each flavor's conftest adds `app` and `client`.

Every test gets its own database. The schema is built once per run, not per test:
- SQLite: a test that uses the `engine` gets a copy of a database file with the tables
  (a file copy costs far less than CREATE TABLE); any other test an empty file.
- PostgreSQL (TEST_DATABASE_URL names a server): databases created for this test run and
  dropped at its end, one with the tables, emptied (TRUNCATE, ids restarted) after each test
  that used it, and one left empty for tests that build their own schema (migrations).
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from jinja2.bccache import Bucket, BytecodeCache
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from example import security
from example.models import Base, User
from example.security import hash_password
from example.settings import Settings

DEFAULT_PASSWORD = "correct horse battery staple"
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


class ApiClient(Protocol):
    """The slice of httpx's client interface the shared tests use.

    FastAPI's TestClient has it natively; the Flask flavor wraps Flask's test client.
    Responses are httpx-like: .status_code, .json(), .headers, .text, .content.
    """

    def get(self, url: str, **kwargs: Any) -> Any: ...
    def post(self, url: str, **kwargs: Any) -> Any: ...
    def patch(self, url: str, **kwargs: Any) -> Any: ...
    def delete(self, url: str, **kwargs: Any) -> Any: ...


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
def server_schema_database_url() -> Iterator[str | None]:
    """A PostgreSQL database for this run with the models' tables, emptied after each test."""
    yield from _server_database(with_schema=True)


@pytest.fixture(scope="session")
def sqlite_schema_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the models' tables, copied for each test that uses the `engine`."""
    path = tmp_path_factory.mktemp("schema") / "schema.db"
    _create_schema(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """This test's database: with the tables if the test uses the `engine`, else empty."""
    with_schema = "engine" in request.fixturenames
    name = "server_schema_database_url" if with_schema else "server_database_url"
    server_url: str | None = request.getfixturevalue(name)
    if server_url is not None:
        return server_url
    path = tmp_path / "test.db"
    if with_schema:
        shutil.copyfile(request.getfixturevalue("sqlite_schema_file"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test (e.g. with parametrize) to change a setting for that test's app."""
    return {}


@pytest.fixture
def settings(database_url: str, settings_overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {
        "environment": "testing",
        "database_url": database_url,
        "secret_key": TEST_SECRET_KEY,
        "auth_rate_limit": "1000/minute",
        "cors_origins": ["http://localhost:3000"],
        **settings_overrides,
    }
    # _env_file=None: a developer's .env must not leak into the tests.
    return Settings(**values, _env_file=None)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """The test database (its tables exist already, see `database_url`)."""
    engine = create_engine(settings.sync_database_url)
    try:
        yield engine
    finally:
        if engine.dialect.name == "postgresql":
            # The next test gets empty tables, and ids that start at 1 again.
            tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()


class MemoryBytecodeCache(BytecodeCache):
    """Jinja's compiled templates, kept for the whole run: every test builds a new app, and
    so a new template environment, which would otherwise compile the admin's pages again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


@pytest.fixture(scope="session")
def template_cache() -> MemoryBytecodeCache:
    return MemoryBytecodeCache()


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


@pytest.fixture
def user_headers(make_user: MakeUser, login: Login) -> dict[str, str]:
    make_user("user@example.com")
    return login("user@example.com")


@pytest.fixture
def superuser_headers(make_user: MakeUser, login: Login) -> dict[str, str]:
    make_user("admin@example.com", is_superuser=True)
    return login("admin@example.com")
