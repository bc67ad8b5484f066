"""How the app's SQLite connections are opened (both flavors' db.py, and the tests), and
why reads on SQLite keep their transactions (read_execution_options)."""

from typing import Any

from sqlalchemy.engine import Dialect


def configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """A "connect" event listener for an engine on SQLite."""
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Write-ahead logging: readers and the writer no longer block each other, and a commit
    # appends to the log instead of waiting for the disk (an fsync per commit, ~10 ms here);
    # the log reaches the disk at checkpoints. A crash of the app loses nothing; a power
    # failure may lose the last commits. (Rails makes the same choice for SQLite.)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def read_execution_options(dialect: Dialect) -> dict[str, Any]:
    """The execution options of a session that only reads (db.py's read session).

    On PostgreSQL its statements run in autocommit mode: no BEGIN and ROLLBACK around a
    read, two round trips of the three a lookup by id would take. Nothing is lost: under
    READ COMMITTED, PostgreSQL's default, each statement sees a snapshot of its own inside a
    transaction too. (Per session rather than an engine option: SQLAlchemy implements the
    latter with an event, which then costs every statement of every session.) SQLite keeps
    its transactions.
    """
    if dialect.name == "sqlite":
        return {}
    return {"isolation_level": "AUTOCOMMIT"}
