"""FastAPI fixtures: `app` and `client`, on top of the shared ones in common.py."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from jinja2 import BytecodeCache
from sqlalchemy import Engine
from starlette.types import Receive, Scope, Send

from example.app import create_app
from example.settings import Settings

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
        apps[key].state.admin.templates.env.bytecode_cache = template_cache
    app = apps[key]
    app.state.login_limiter.reset()
    return app


@pytest.fixture
def fresh_app(settings: Settings, engine: Engine) -> FastAPI:
    """An app of this test's own, for a test that adds routes to it."""
    return create_app(settings)


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


@pytest.fixture
def client(app: FastAPI) -> Iterator[AppClient]:
    # The context manager runs the app's lifespan (its database engine).
    with AppClient(app) as client:
        yield client


@pytest.fixture
def other_client(client: AppClient) -> Iterator[httpx2.Client]:
    """A second client of `client`'s app (on its event loop), with no cookies of its own: what
    it sends is what the test puts in its requests."""
    with httpx2.Client(
        transport=client._app_transport, base_url="http://testserver", follow_redirects=True
    ) as other:
        yield other
