"""The health endpoints: /health (service and database), /health/live (the process serves:
a liveness probe, which asks nothing else) and /health/ready (a readiness probe: the
database, and Redis when REDIS_URL is set)."""

from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from example.api.blueprint import make_blueprint
from example.db import get_read_session
from example.readiness import readiness, redis_answers
from example.schemas import Health, Liveness, Readiness

blp = make_blueprint("health", url_prefix="", description="Liveness and readiness checks.")


def check_database() -> None:
    get_read_session().execute(text("SELECT 1"))


def _database_answers() -> bool:
    try:
        check_database()
    except SQLAlchemyError:
        return False
    return True


@blp.route("/health")
@blp.response(200, Health)
@blp.alt_response(503, schema=Health, description="The database does not answer")
def health() -> tuple[dict[str, Any], int]:
    """Report whether the service and its database are up."""
    if not _database_answers():
        return {"status": "error", "database": "error"}, 503
    return {"status": "ok", "database": "ok"}, 200


@blp.route("/health/live")
@blp.response(200, Liveness)
def live() -> dict[str, str]:
    """The process serves requests; nothing else is asked (a database outage must not make
    an orchestrator restart the service)."""
    return {"status": "ok"}


@blp.route("/health/ready")
@blp.response(200, Readiness)
@blp.alt_response(503, schema=Readiness, description="Not ready")
def ready() -> tuple[dict[str, str], int]:
    """Report whether the service can take traffic: the database answers, and Redis too when
    REDIS_URL is set; 503 naming what is down otherwise."""
    redis_url = current_app.config["SETTINGS"].redis_url
    redis = redis_answers(redis_url) if redis_url else None
    return readiness(_database_answers(), redis)
