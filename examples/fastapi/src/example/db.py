"""The database: one async engine per app (created by create_app, closed by its lifespan)."""

from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from example.database_errors import refuse_nul_characters
from example.settings import Settings
from example.sqlite import configure_sqlite

# Connections each worker process keeps open. An async worker serves many requests at once:
# with SQLAlchemy's default (5, and 10 more opened and closed on demand), a busy worker would
# open a new PostgreSQL connection for every few requests. Beyond POOL_SIZE, requests wait
# for a free connection (POOL_TIMEOUT_SECONDS at most, then a 503).
POOL_SIZE = 20
POOL_TIMEOUT_SECONDS = 5
# An unreachable database server fails a request in this many seconds (a 503, see errors.py),
# rather than after the driver's default minute.
CONNECT_TIMEOUT_SECONDS = 3


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.async_database_url
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", configure_sqlite)
        refuse_nul_characters(engine.sync_engine)
        return engine
    # No pool_pre_ping: with asyncpg it costs three round trips per request (BEGIN, a query,
    # ROLLBACK). A database restart closes the pooled connections, asyncpg notices it without
    # asking the server, and discard_closed_connection replaces them before they are used.
    # A connection lost some other way fails one request (a 503), and SQLAlchemy then
    # replaces every connection of the pool.
    engine = create_async_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )
    event.listen(engine.sync_engine, "checkout", discard_closed_connection)
    refuse_nul_characters(engine.sync_engine)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: a committed object can still be serialised without
    # another (implicit, and in async code impossible) round trip to the database.
    return async_sessionmaker(engine, expire_on_commit=False)


def discard_closed_connection(_dbapi_connection: Any, _record: Any, proxy: Any) -> None:
    """Make the pool connect afresh instead of handing out a connection the server closed."""
    if proxy.driver_connection.is_closed():
        raise exc.DisconnectionError
