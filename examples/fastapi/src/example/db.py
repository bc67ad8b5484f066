"""The database: one async engine per app (created by create_app, closed by its lifespan)."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from example.settings import Settings


def create_engine(settings: Settings) -> AsyncEngine:
    # pool_pre_ping costs a round trip per checkout (~15% of a simple GET's CPU, see
    # benchmarks/throughput.py) but keeps a database restart from failing requests; the Flask
    # flavor makes the same choice.
    engine = create_async_engine(settings.async_database_url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked per connection.
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: a committed object can still be serialised without
    # another (implicit, and in async code impossible) round trip to the database.
    return async_sessionmaker(engine, expire_on_commit=False)


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
