"""Flask fixtures: `app` and an httpx-like `client`, on top of the shared ones in common.py."""

import gc
import json
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask, session
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import Engine
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from example.api.auth import LIMITER_KEY
from example.app import create_app
from example.db import get_database
from example.settings import Settings

if TYPE_CHECKING:  # at run time, imported where used: tests.common is a plugin (below)
    from tests.common import LogInAdmin

pytest_plugins = ["tests.common"]


class Response:
    """The parts of an httpx.Response the tests read, over Werkzeug's TestResponse."""

    def __init__(self, response: TestResponse) -> None:
        self.status_code: int = response.status_code
        self.headers: Headers = response.headers
        self.content: bytes = response.get_data()

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)


class AppClient:
    """httpx's calling convention (json=, data=, params=, content=, follow_redirects=) on
    Flask's test client, so that the shared tests read the same in both flavors.

    Like Flask's test client, it keeps cookies between requests and does not follow
    redirects unless asked to.
    """

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        follow_redirects: bool = False,
    ) -> Response:
        response = self._client.open(
            url,
            method=method,
            json=json,
            data=content if content is not None else data,
            query_string=params,
            headers=dict(headers or {}),
            follow_redirects=follow_redirects,
        )
        try:
            return Response(response)
        finally:
            response.close()  # a streamed file (e.g. /docs/static/) is otherwise left open

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture(scope="session")
def apps() -> Iterator[dict[str, Flask]]:
    """The run's apps, one per distinct settings (see tests/common.py)."""
    apps: dict[str, Flask] = {}
    yield apps
    for app in apps.values():
        get_database(app).engine.dispose()


@pytest.fixture
def app(
    settings: Settings, engine: Engine, apps: dict[str, Flask], template_cache: BytecodeCache
) -> Flask:
    key = settings.model_dump_json()
    if key not in apps:
        apps[key] = create_app(settings)
        gc.freeze()  # the app lives to the end of the run (see tests/common.py)
        apps[key].jinja_env.bytecode_cache = template_cache
    app = apps[key]
    app.extensions[LIMITER_KEY].reset()
    return app


@pytest.fixture
def fresh_app(settings: Settings, engine: Engine) -> Iterator[Flask]:
    """An app of this test's own, for a test that adds routes to it."""
    app = create_app(settings)
    yield app
    get_database(app).engine.dispose()


@pytest.fixture(scope="session")
def failing_apps() -> Iterator[dict[str, tuple[Flask, list[BaseException]]]]:
    """The run's apps with a /fail view, one per distinct settings (see `fail_with`)."""
    apps: dict[str, tuple[Flask, list[BaseException]]] = {}
    yield apps
    for app, _ in apps.values():
        get_database(app).engine.dispose()


@pytest.fixture
def fail_with(
    settings: Settings,
    engine: Engine,
    failing_apps: dict[str, tuple[Flask, list[BaseException]]],
) -> Callable[..., TestResponse]:
    """`fail_with(error, **request)` GETs /fail, a view that raises `error`, from an app built
    once per run (building one costs more than the tests that use it)."""
    key = settings.model_dump_json()
    if key not in failing_apps:
        app = create_app(settings)
        errors: list[BaseException] = []

        @app.get("/fail")
        def fail() -> str:
            raise errors[-1]

        failing_apps[key] = (app, errors)
    app, errors = failing_apps[key]

    def get(error: BaseException, **request: Any) -> TestResponse:
        errors.append(error)
        return app.test_client().get("/fail", **request)

    return get


@pytest.fixture
def client(app: Flask) -> AppClient:
    return AppClient(app.test_client())


@pytest.fixture
def other_client(app: Flask) -> AppClient:
    """A second client of the app, keeping no cookies: what it sends is what the test puts in
    its requests."""
    return AppClient(app.test_client(use_cookies=False))


@pytest.fixture
def log_in_admin(client: AppClient, app: Flask, engine: Engine) -> "LogInAdmin":
    """`log_in_admin(user_id)` logs `client` in to the admin as that user without the login
    form (test_admin.py tests the form; it costs more than most admin tests): a session
    started on the server as the login starts one, its token in Flask's session cookie,
    with the CSRF token Flask-Admin's model forms (SecureForm) make for that session.
    test_admin.py checks the app takes it as it takes a login."""

    # Imported here, as create_app() imports the admin: a run that builds no app loads none.
    from flask_admin.form import SecureForm

    from example.admin import ADMIN_SESSION_KEY
    from tests.common import AdminLogin, start_admin_session

    def log_in(user_id: int) -> AdminLogin:
        with app.test_request_context():
            session[ADMIN_SESSION_KEY] = start_admin_session(engine, user_id)
            csrf_token = SecureForm().csrf_token.current_token
            values = dict(session)
        with client._client.session_transaction() as cookie_session:
            cookie_session.update(values)
        cookie = client._client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        assert cookie is not None
        return AdminLogin({"Cookie": f"{cookie.key}={cookie.value}"}, csrf_token)

    return log_in
