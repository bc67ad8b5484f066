"""How the app's SQLite connections are opened (both flavors' db.py, and the tests)."""

from typing import Any


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
