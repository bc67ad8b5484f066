"""The health endpoints: /health (service and database), /health/live (the process serves:
a liveness probe, which asks nothing else) and /health/ready (a readiness probe: the
database, and Redis when REDIS_URL is set)."""

from typing import Any

import anyio
from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from example.deps import ReadSessionDep, SettingsDep
from example.readiness import readiness, redis_answers
from example.schemas import Health, Liveness, Readiness

router = APIRouter(tags=["health"])
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Readiness, "description": "Not ready"}
}


async def check_database(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))


async def _database_answers(session: AsyncSession) -> bool:
    try:
        await check_database(session)
    except SQLAlchemyError:
        return False
    return True


@router.get(
    "/health",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Health}},
)
async def health(session: ReadSessionDep, response: Response) -> Health:
    """Report whether the service and its database are up."""
    if not await _database_answers(session):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="error", database="error")
    return Health(status="ok", database="ok")


@router.get("/health/live")
async def live() -> Liveness:
    """The process serves requests; nothing else is asked (a database outage must not make
    an orchestrator restart the service)."""
    return Liveness(status="ok")


@router.get("/health/ready", response_model=Readiness, responses=UNAVAILABLE)
async def ready(session: ReadSessionDep, settings: SettingsDep) -> JSONResponse:
    """Report whether the service can take traffic: the database answers, and Redis too when
    REDIS_URL is set; 503 naming what is down otherwise."""
    redis = None
    if settings.redis_url:
        redis = await anyio.to_thread.run_sync(redis_answers, settings.redis_url)
    body, code = readiness(await _database_answers(session), redis)
    return JSONResponse(body, status_code=code)
