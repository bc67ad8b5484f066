"""FastAPI fixtures: `app` and `client`, on top of the shared ones in common.py."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jinja2 import BytecodeCache
from sqlalchemy import Engine

from example.app import create_app
from example.settings import Settings

pytest_plugins = ["tests.common"]


@pytest.fixture
def app(settings: Settings, engine: Engine, template_cache: BytecodeCache) -> FastAPI:
    app = create_app(settings)
    app.state.admin.templates.env.bytecode_cache = template_cache
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # The context manager runs the app's lifespan (its database engine).
    with TestClient(app) as client:
        yield client
