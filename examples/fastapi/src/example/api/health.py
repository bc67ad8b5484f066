"""GET /health: is the service up, and does its database answer?"""

from fastapi import APIRouter, Response, status
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from example.deps import ReadSessionDep
from example.schemas import Health

router = APIRouter(tags=["health"])


async def check_database(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))


@router.get(
    "/health",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Health}},
)
async def health(session: ReadSessionDep, response: Response) -> Health:
    """Report whether the service and its database are up."""
    try:
        await check_database(session)
    except SQLAlchemyError:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="error", database="error")
    return Health(status="ok", database="ok")
