"""What a lost or unreachable database looks like: each flavor's errors.py answers it with a
503 (API-CONTRACT.md), and the next request gets a fresh connection from the pool."""

from sqlalchemy import exc

# The driver's errors (in SQLAlchemy's wrappers), a wait for a pooled connection that timed
# out, and the network errors a connection attempt raises as they are.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    exc.DBAPIError,
    exc.TimeoutError,
    ConnectionError,
    TimeoutError,
)
UNAVAILABLE_DETAIL = "Service unavailable"


def database_unavailable(error: BaseException) -> bool:
    """True for an error of UNAVAILABLE_ERRORS that means the database cannot be reached;
    other database errors (a violated constraint, a bad statement) are bugs: a 500."""
    if isinstance(error, exc.DBAPIError):
        return error.connection_invalidated or isinstance(
            error, exc.OperationalError | exc.InterfaceError
        )
    return isinstance(error, UNAVAILABLE_ERRORS)
