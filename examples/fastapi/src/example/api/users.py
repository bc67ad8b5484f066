"""GET /api/v1/users/me: who the bearer token belongs to."""

from fastapi import APIRouter, status

from example.deps import CurrentUser
from example.models import User
from example.schemas import Message, UserRead

router = APIRouter(
    prefix="/users",
    tags=["users"],
    responses={status.HTTP_401_UNAUTHORIZED: {"model": Message}},
)


@router.get("/me", response_model=UserRead)
async def read_me(user: CurrentUser) -> User:
    """The current user (never a password or its hash)."""
    return user
