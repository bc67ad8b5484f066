"""The database: one engine per app, one SQLAlchemy session per request (no Flask-SQLAlchemy).

The per-request session is a `scoped_session` keyed by the application context (as
Flask-SQLAlchemy does it), so that code which takes a session object rather than calling
`get_session()` (Flask-Admin's model views) shares the request's session.
"""

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from example.settings import Settings

EXTENSION_KEY = "example.database"


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessionmaker: sessionmaker[Session]
    # The current request's session; `session()` opens it on first use.
    session: scoped_session[Session]


def init_app(app: Flask, settings: Settings) -> Database:
    """Create the app's engine and close each request's session when the request ends."""
    engine = create_engine(settings.sync_database_url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked per connection.
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    factory = sessionmaker(engine, expire_on_commit=False)
    database = Database(engine, factory, scoped_session(factory, scopefunc=_app_context_id))
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(close_session)
    return database


def get_database(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions[EXTENSION_KEY]
    return database


def get_session() -> Session:
    """This request's session, opened on first use."""
    return get_database().session()


def close_session(_error: BaseException | None = None) -> None:
    """Close this request's session (if it opened one) and forget it."""
    get_database().session.remove()


def _app_context_id() -> int:
    # The context object itself, not the proxy (typed as AppContext, hence the ignore).
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
