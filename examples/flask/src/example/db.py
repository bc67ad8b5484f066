"""The database: one engine per app, one SQLAlchemy session per request (no Flask-SQLAlchemy).

The per-request session is a `scoped_session` keyed by the application context (as
Flask-SQLAlchemy does it), so that code which takes a session object rather than calling
`get_session()` (Flask-Admin's model views) shares the request's session.
"""

import select
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from example.database_errors import refuse_nul_characters
from example.settings import Settings
from example.sqlite import configure_sqlite, read_execution_options

EXTENSION_KEY = "example.database"
# Database connections per worker process, opened as they are first needed: a request holds
# one while it is served (server.http_threads at a time), WebSocket connections none.
POOL_SIZE = 8


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessionmaker: sessionmaker[Session]
    # The current request's session; `session()` opens it on first use.
    session: scoped_session[Session]
    # The execution options of a session that only reads (get_read_session).
    read_options: dict[str, Any]


def init_app(app: Flask, settings: Settings) -> Database:
    """Create the app's engine and close each request's session when the request ends."""
    url = settings.sync_database_url
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", configure_sqlite)
    else:
        # A pool as large as the requests a worker serves at once, and no overflow: a
        # connection is never opened for one request and closed after it (each costs the
        # server a new process). No pool_pre_ping, whose round trip costs every request: a
        # database restart closes the pooled connections, and discard_closed_connection
        # replaces them before they are used. A connection lost some other way fails one
        # request, and SQLAlchemy then replaces every connection of the pool.
        engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=0)
        event.listen(engine, "checkout", discard_closed_connection)
    refuse_nul_characters(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    database = Database(
        engine,
        factory,
        scoped_session(factory, scopefunc=_app_context_id),
        read_execution_options(engine.dialect),
    )
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(close_session)
    return database


def get_database(app: Flask | None = None) -> Database:
    database: Database = (app or current_app).extensions[EXTENSION_KEY]
    return database


def get_session() -> Session:
    """This request's session, opened on first use."""
    return get_database().session()


def get_read_session() -> Session:
    """This request's session, for an endpoint that only reads: no transaction around its
    statements on PostgreSQL (sqlite.read_execution_options). Never use it to write."""
    database = get_database()
    session = database.session()
    if database.read_options and not session.in_transaction():
        session.connection(execution_options=database.read_options)
    return session


def close_session(_error: BaseException | None = None) -> None:
    """Close this request's session (if it opened one) and forget it."""
    get_database().session.remove()


def _app_context_id() -> int:
    # The context object itself, not the proxy (typed as AppContext, hence the ignore).
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


def discard_closed_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Make the pool connect afresh instead of handing out a connection the server closed.

    An idle connection has nothing to read, unless the server has closed it (or said why
    before closing it): a readable socket means the connection is gone. No round trip.
    """
    if dbapi_connection.closed:
        raise exc.DisconnectionError
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError
