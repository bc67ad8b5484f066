"""FastAPI fixtures: `app` and `client`, on top of the shared ones in common.py."""

import asyncio
import gc
import json
from base64 import b64encode
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from jinja2 import BytecodeCache
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from example.app import create_app
from example.settings import Settings

if TYPE_CHECKING:  # at run time, imported where used: tests.common is a plugin (below)
    from tests.common import LogInAdmin

pytest_plugins = ["tests.common"]


@pytest.fixture(scope="session")
def apps() -> dict[str, FastAPI]:
    """The run's apps, one per distinct settings (see tests/common.py)."""
    return {}


@pytest.fixture
def app(
    settings: Settings, engine: Engine, apps: dict[str, FastAPI], template_cache: BytecodeCache
) -> FastAPI:
    key = settings.model_dump_json()
    if key not in apps:
        apps[key] = create_app(settings)
        gc.freeze()  # the app lives to the end of the run (see tests/common.py)
        apps[key].state.admin.templates.env.bytecode_cache = template_cache
    app = apps[key]
    app.state.login_limiter.reset()
    return app


@pytest.fixture
def fresh_app(settings: Settings, engine: Engine) -> FastAPI:
    """An app of this test's own, for a test that adds routes to it."""
    return create_app(settings)


@pytest.fixture(scope="session")
def failing_apps() -> Iterator[dict[str, tuple[TestClient, list[BaseException]]]]:
    """The run's apps with a /fail route (their running clients), one per distinct settings
    (see `fail_with`)."""
    running: dict[str, tuple[TestClient, list[BaseException]]] = {}
    yield running
    for client, _ in running.values():
        client.__exit__(None, None, None)


@pytest.fixture
def fail_with(
    settings: Settings,
    engine: Engine,
    failing_apps: dict[str, tuple[TestClient, list[BaseException]]],
) -> Callable[..., httpx2.Response]:
    """`fail_with(error, **request)` GETs /fail, a route that raises `error`, from an app built
    once per run (building one costs more than the tests that use it)."""
    key = settings.model_dump_json()
    if key not in failing_apps:
        app = create_app(settings)
        errors: list[BaseException] = []

        async def fail() -> None:
            raise errors[-1]

        app.add_api_route("/fail", fail)
        # Starlette re-raises a handled 500 for the server to log; the tests want the response.
        client = TestClient(app, raise_server_exceptions=False).__enter__()
        failing_apps[key] = (client, errors)
    client, errors = failing_apps[key]

    def get(error: BaseException, **request: Any) -> httpx2.Response:
        errors.append(error)
        return client.get("/fail", **request)

    return get


class AppClient(httpx2.Client):
    """An httpx client of the app that runs it on an event loop in the test's own thread.

    Like Starlette's TestClient (the same base URL, redirects followed, the app's exceptions
    raised, its lifespan run from `with` to the end of the block) but without TestClient's
    second thread: TestClient hands every request to an event loop in another thread, which
    costs about twice the CPU of the request itself. WebSocket tests use TestClient.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._loop = asyncio.new_event_loop()
        self._lifespan = app.router.lifespan_context(app)
        self._app_transport = _LoopTransport(self._loop, app)
        super().__init__(
            transport=self._app_transport,
            base_url="http://testserver",
            follow_redirects=True,
        )

    def __enter__(self) -> "AppClient":
        state = self._loop.run_until_complete(self._lifespan.__aenter__())
        self._app_transport.state = dict(state or {})
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            super().__exit__(*exc_info)
            self._loop.run_until_complete(self._lifespan.__aexit__(None, None, None))
        finally:
            self._loop.close()


class _LoopTransport(httpx2.BaseTransport):
    """httpx's ASGI transport, driven from synchronous code on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, app: FastAPI) -> None:
        self._loop = loop
        self._app = app
        self.state: dict[str, Any] = {}
        self._asgi = httpx2.ASGITransport(self._with_state)

    async def _with_state(self, scope: Scope, receive: Receive, send: Send) -> None:
        # What the lifespan yielded, copied into each request's scope (as servers do).
        scope["state"] = dict(self.state)
        await self._app(scope, receive, send)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()  # a body from a (synchronous) iterator, whole, for the ASGI transport

        async def send() -> httpx2.Response:
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx2.Response(
                response.status_code,
                headers=response.headers,
                content=content,
                extensions=response.extensions,
            )

        return self._loop.run_until_complete(send())


@pytest.fixture(scope="session")
def clients() -> Iterator[dict[int, AppClient]]:
    """One running client per app: its lifespan starts on first use and ends with the run (a
    lifespan per test, with its event loop and the engine's first connection, costs more than
    most tests)."""
    running: dict[int, AppClient] = {}
    yield running
    for client in running.values():
        client.__exit__(None, None, None)


@pytest.fixture
def client(app: FastAPI, clients: dict[int, AppClient]) -> AppClient:
    if id(app) not in clients:
        clients[id(app)] = AppClient(app).__enter__()
    client = clients[id(app)]
    client.cookies.clear()  # every test starts logged out of the admin
    return client


@pytest.fixture
def other_client(client: AppClient) -> Iterator[httpx2.Client]:
    """A second client of `client`'s app (on its event loop), with no cookies of its own: what
    it sends is what the test puts in its requests."""
    with httpx2.Client(
        transport=client._app_transport, base_url="http://testserver", follow_redirects=True
    ) as other:
        yield other


@pytest.fixture
def log_in_admin(client: AppClient, settings: Settings, engine: Engine) -> "LogInAdmin":
    """`log_in_admin(user_id)` logs `client` in to the admin as that user without the login
    form (test_admin.py tests the form; it costs more than most admin tests): a session
    started on the server as the login starts one, its token in the admin's session cookie,
    signed as Starlette's SessionMiddleware signs it, with the CSRF token the admin's own
    `get_csrf_token` makes. test_admin.py checks the app takes it as it takes a login."""

    # Imported here, as create_app() imports the admin: a run that builds no app loads none.
    from example.admin import BASE_URL, SESSION_COOKIE
    from example.admin.auth import ADMIN_SESSION_KEY
    from example.admin.csrf import get_csrf_token
    from tests.common import AdminLogin, start_admin_session

    def log_in(user_id: int) -> AdminLogin:
        session: dict[str, Any] = {ADMIN_SESSION_KEY: start_admin_session(engine, user_id)}
        csrf_token = get_csrf_token(Request({"type": "http", "session": session}))
        signer = TimestampSigner(settings.secret_key)
        cookie = signer.sign(b64encode(json.dumps(session).encode())).decode()
        client.cookies.set(SESSION_COOKIE, cookie, path=BASE_URL)
        return AdminLogin({"Cookie": f"{SESSION_COOKIE}={cookie}"}, csrf_token)

    return log_in
