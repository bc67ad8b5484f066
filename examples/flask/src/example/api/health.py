"""GET /health: is the service up, and does its database answer?"""

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from example.api.blueprint import make_blueprint
from example.db import get_session
from example.schemas import Health

blp = make_blueprint("health", url_prefix="", description="Liveness and database checks.")


def check_database() -> None:
    get_session().execute(text("SELECT 1"))


@blp.route("/health")
@blp.response(200, Health)
@blp.alt_response(503, schema=Health, description="The database does not answer")
def health() -> tuple[dict[str, Any], int]:
    """Report whether the service and its database are up."""
    try:
        check_database()
    except SQLAlchemyError:
        return {"status": "error", "database": "error"}, 503
    return {"status": "ok", "database": "ok"}, 200
