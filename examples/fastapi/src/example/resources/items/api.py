"""The Item resource's API, /api/v1/items.

Made by `scaffold new`, as the contract says: list and read publicly; create
with a token; change and delete as the owner or a superuser.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from example.api.ws import publish
from example.deps import CurrentUser, ReadSessionDep, SessionDep
from example.errors import BodyErrorRoute
from example.models import MAX_ID
from example.resources.items.model import Item
from example.resources.items.schemas import (
    ItemCreate,
    ItemPage,
    ItemRead,
    ItemUpdate,
)
from example.schemas import ItemId, Message

router = APIRouter(prefix="/items", tags=["items"], route_class=BodyErrorRoute)

NOT_FOUND = "Item not found"
# Documented error responses (OpenAPI), besides the 422 FastAPI documents itself.
NOT_FOUND_RESPONSE: dict[int | str, dict[str, Any]] = {
    status.HTTP_404_NOT_FOUND: {"model": Message}
}
PROTECTED: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"model": Message},
    status.HTTP_403_FORBIDDEN: {"model": Message},
}


async def get_or_404(session: AsyncSession, row_id: int) -> Item:
    # An out-of-range id can name no row, and would overflow the database driver.
    in_range = 1 <= row_id <= MAX_ID
    row = await session.get(Item, row_id) if in_range else None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return row


async def find_item(item_id: ItemId, session: SessionDep) -> Item:
    """The one named in the path, or 404."""
    return await get_or_404(session, item_id)


ItemDep = Annotated[Item, Depends(find_item)]


def require_owner(row: Item, user: CurrentUser) -> None:
    if row.owner_id != user.id and not user.is_superuser:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Not enough permissions")


@router.get("", response_model=ItemPage)
async def list_items(
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    """A page, ordered by id."""
    total = await session.scalar(select(func.count(Item.id))) or 0
    statement = select(Item).order_by(Item.id)
    rows = await session.scalars(statement.limit(limit).offset(offset))
    return {"items": rows.all(), "total": total, "limit": limit, "offset": offset}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemRead,
    responses={status.HTTP_401_UNAUTHORIZED: {"model": Message}},
)
async def create_item(
    user: CurrentUser,
    body: ItemCreate,
    session: SessionDep,
    request: Request,
    response: Response,
) -> Item:
    """Create one, owned by the current user."""
    values = body.model_dump()
    row = Item(**values, owner_id=user.id)
    session.add(row)
    await session.commit()
    await publish(request, "created", as_json(row))
    response.headers["Location"] = f"{request.scope['path'].rstrip('/')}/{row.id}"
    return row


@router.get("/{item_id}", response_model=ItemRead, responses=NOT_FOUND_RESPONSE)
async def read_item(item_id: ItemId, session: ReadSessionDep) -> Item:
    """One, by id."""
    return await get_or_404(session, item_id)


@router.patch(
    "/{item_id}",
    response_model=ItemRead,
    responses={**PROTECTED, **NOT_FOUND_RESPONSE},
)
async def update_item(
    user: CurrentUser, row: ItemDep, changes: ItemUpdate, session: SessionDep, request: Request
) -> Item:
    """Change any subset of the fields (owner or superuser)."""
    require_owner(row, user)
    for field, value in changes.items():
        setattr(row, field, value)
    await session.commit()
    await publish(request, "updated", as_json(row))
    return row


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **PROTECTED,
        **NOT_FOUND_RESPONSE,
        status.HTTP_409_CONFLICT: {"model": Message},
    },
)
async def delete_item(
    user: CurrentUser, row: ItemDep, session: SessionDep, request: Request
) -> None:
    """Delete (owner or superuser); a 409 while other rows refer to it."""
    require_owner(row, user)
    deleted_id = row.id
    await session.delete(row)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        detail = "Item is referred to by other rows"
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from None
    await publish(request, "deleted", {"id": deleted_id})


def as_json(row: Item) -> dict[str, Any]:
    """The row exactly as the REST API returns it, for the WebSocket events (api/ws.py)."""
    return ItemRead.model_validate(row).model_dump(mode="json")
