"""/api/v1/items: list and read publicly; create with a token; change as owner or superuser."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from example.api.ws import publish
from example.deps import CurrentUser, ReadSessionDep, SessionDep
from example.errors import BodyErrorRoute
from example.models import MAX_ID, Item
from example.schemas import (
    ItemCreate,
    ItemId,
    ItemPage,
    ItemRead,
    ItemUpdate,
    Message,
)

router = APIRouter(prefix="/items", tags=["items"], route_class=BodyErrorRoute)

# Documented error responses (OpenAPI), besides the 422 FastAPI documents itself.
NOT_FOUND: dict[int | str, dict[str, Any]] = {status.HTTP_404_NOT_FOUND: {"model": Message}}
PROTECTED: dict[int | str, dict[str, Any]] = {
    status.HTTP_401_UNAUTHORIZED: {"model": Message},
    status.HTTP_403_FORBIDDEN: {"model": Message},
}


async def find_item(item_id: ItemId, session: SessionDep) -> Item:
    """The item named in the path, or 404."""
    return await get_item_or_404(session, item_id)


async def get_item_or_404(session: AsyncSession, item_id: int) -> Item:
    # An out-of-range id can name no row, and would overflow the database driver.
    item = await session.get(Item, item_id) if 1 <= item_id <= MAX_ID else None
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Item not found")
    return item


ItemDep = Annotated[Item, Depends(find_item)]


def require_owner(item: Item, user: CurrentUser) -> None:
    if item.owner_id != user.id and not user.is_superuser:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Not enough permissions")


@router.get("", response_model=ItemPage)
async def list_items(
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """A page of items, ordered by id."""
    total = await session.scalar(select(func.count()).select_from(Item)) or 0
    rows = await session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset))
    # The models themselves: FastAPI validates the page once (response_model), reading each
    # item's attributes, rather than once here and again on the way out.
    return {"items": rows.all(), "total": total, "limit": limit, "offset": offset}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemRead,
    responses={status.HTTP_401_UNAUTHORIZED: {"model": Message}},
)
async def create_item(
    user: CurrentUser, body: ItemCreate, session: SessionDep, request: Request, response: Response
) -> Item:
    """Create an item owned by the current user."""
    item = Item(**body.model_dump(), owner_id=user.id)
    session.add(item)
    await session.commit()
    await publish(request, "created", _item_json(item))
    # The item's URL, under the collection the request was made to (url_path_for would
    # search the app's routing table on every create).
    response.headers["Location"] = f"{request.scope['path'].rstrip('/')}/{item.id}"
    return item


@router.get("/{item_id}", response_model=ItemRead, responses=NOT_FOUND)
async def read_item(item_id: ItemId, session: ReadSessionDep) -> Item:
    """One item."""
    return await get_item_or_404(session, item_id)


@router.patch("/{item_id}", response_model=ItemRead, responses={**PROTECTED, **NOT_FOUND})
async def update_item(
    user: CurrentUser, item: ItemDep, changes: ItemUpdate, session: SessionDep, request: Request
) -> Item:
    """Change any subset of an item's fields (owner or superuser)."""
    require_owner(item, user)
    for field, value in changes.items():
        setattr(item, field, value)
    await session.commit()
    await publish(request, "updated", _item_json(item))
    return item


@router.delete(
    "/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses={**PROTECTED, **NOT_FOUND}
)
async def delete_item(
    user: CurrentUser, item: ItemDep, session: SessionDep, request: Request
) -> None:
    """Delete an item (owner or superuser)."""
    require_owner(item, user)
    deleted_id = item.id
    await session.delete(item)
    await session.commit()
    await publish(request, "deleted", {"id": deleted_id})


def _item_json(item: Item) -> dict[str, Any]:
    """The item exactly as the REST API returns it, for the WebSocket events (api/ws.py)."""
    return ItemRead.model_validate(item).model_dump(mode="json")
