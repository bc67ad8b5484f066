"""What a lost or unreachable database looks like: each flavor's errors.py answers it with a
503 (API-CONTRACT.md), and the next request gets a fresh connection from the pool."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, event, exc

from example.models import NUL

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


NUL_MESSAGE = "String should not contain the NUL character"


class NulCharacterError(ValueError):
    """A statement's parameter held the NUL character, which PostgreSQL refuses: the input
    it came from is a 422 (each flavor's errors.py), on SQLite too."""

    def __init__(self) -> None:
        super().__init__(NUL_MESSAGE)


def nul_character_detail(method: str) -> list[dict[str, Any]]:
    """The 422's detail for a NulCharacterError: in the query of a request without a body."""
    where = "query" if method in ("GET", "HEAD", "DELETE") else "body"
    return [{"loc": [where], "msg": NUL_MESSAGE, "type": "string_pattern_mismatch"}]


def refuse_nul_characters(engine: Engine) -> None:
    """Keep text with the NUL character from the database driver (PostgreSQL's raises, and
    that would be a 500): the API's and the admin's inputs refuse it already, this catches
    the rest (a search term, a filter) on every database alike."""
    event.listen(engine, "before_cursor_execute", _refuse_nul)


def _refuse_nul(
    connection: Any,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> None:
    if _holds_nul(parameters):
        raise NulCharacterError


def _holds_nul(parameters: Any) -> bool:
    """Whether a statement's parameters (one set or many, by name or by position) hold text
    with the NUL character."""
    if isinstance(parameters, str):
        return NUL in parameters
    if isinstance(parameters, Mapping):
        parameters = parameters.values()
    elif not isinstance(parameters, list | tuple):
        return False
    return any(_holds_nul(value) for value in parameters)
