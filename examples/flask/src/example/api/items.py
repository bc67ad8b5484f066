"""/api/v1/items: list and read publicly; create, update and delete with a token."""

import re
from collections.abc import Callable
from typing import Any

from flask import Response, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from example.api.blueprint import make_blueprint
from example.api.ws import publish
from example.db import get_read_session, get_session
from example.deps import BEARER, get_current_user, login_required
from example.errors import abort_json, abort_validation
from example.models import MAX_ID, Item
from example.schemas import (
    HTTPError,
    HTTPValidationError,
    ItemCreate,
    ItemListQuery,
    ItemPage,
    ItemRead,
    ItemUpdate,
)

blp = make_blueprint("items", url_prefix="/api/v1/items", description="Items and their owners.")

ITEM_NOT_FOUND = "Item not found"
# The id is matched as text and checked here (no <int:> converter): a non-integer is a
# 422 on ["path", "item_id"] as in FastAPI, not a 404 from the router.
ITEM_ID_PARAMETER = [{"in": "path", "name": "item_id", "schema": {"type": "integer"}}]
_INTEGER = re.compile(r"-?[0-9]+")
# The item as the REST API returns it, for the WebSocket events (api/ws.py).
_ITEM_JSON = ItemRead()


@blp.route("", methods=["GET"])
@blp.arguments(ItemListQuery, location="query")
@blp.response(200, ItemPage)
@blp.alt_response(422, schema=HTTPValidationError)
def list_items(query: dict[str, int]) -> dict[str, Any]:
    """A page of items, ordered by id."""
    session = get_read_session()
    total = session.scalar(select(func.count()).select_from(Item)) or 0
    page = session.scalars(
        select(Item).order_by(Item.id).limit(query["limit"]).offset(query["offset"])
    ).all()
    return {"items": page, "total": total, **query}


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@login_required
@blp.arguments(ItemCreate)
@blp.response(201, ItemRead, headers={"Location": {"schema": {"type": "string"}}})
@blp.alt_response(401, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def create_item(fields: dict[str, Any]) -> tuple[Item, int, dict[str, str]]:
    """Create an item owned by the current user."""
    item = Item(**fields, owner_id=get_current_user().id)
    session = get_session()
    session.add(item)
    session.commit()
    publish("created", _ITEM_JSON.dump(item))
    return item, 201, {"Location": url_for(".read_item", item_id=item.id)}


@blp.route("/<item_id>", methods=["GET"], parameters=ITEM_ID_PARAMETER)
@blp.response(200, ItemRead)
@blp.alt_response(404, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def read_item(item_id: str) -> Item:
    """One item."""
    return _get_item(item_id, get_read_session)


@blp.route("/<item_id>", methods=["PATCH"], parameters=ITEM_ID_PARAMETER)
@blp.doc(security=BEARER)
@login_required
@blp.arguments(ItemUpdate)
@blp.response(200, ItemRead)
@blp.alt_response(401, schema=HTTPError)
@blp.alt_response(403, schema=HTTPError)
@blp.alt_response(404, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def update_item(changes: dict[str, Any], item_id: str) -> Item:
    """Change any of an item's fields (its owner or a superuser only)."""
    item = _get_own_item(item_id)
    for field, value in changes.items():
        setattr(item, field, value)
    get_session().commit()
    publish("updated", _ITEM_JSON.dump(item))
    return item


@blp.route("/<item_id>", methods=["DELETE"], parameters=ITEM_ID_PARAMETER)
@blp.doc(security=BEARER)
@login_required
@blp.response(204)
@blp.alt_response(401, schema=HTTPError)
@blp.alt_response(403, schema=HTTPError)
@blp.alt_response(404, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def delete_item(item_id: str) -> Response:
    """Delete an item (its owner or a superuser only)."""
    item = _get_own_item(item_id)
    session = get_session()
    deleted_id = item.id
    session.delete(item)
    session.commit()
    publish("deleted", {"id": deleted_id})
    # A Response passes through flask-smorest untouched: 204, no body, no Content-Type.
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response


def _get_item(raw_id: str, open_session: Callable[[], Session]) -> Item:
    if not _INTEGER.fullmatch(raw_id):
        abort_validation(
            ["path", "item_id"],
            "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
        )
    digits = raw_id.lstrip("+-0")
    # Ids outside 1..MAX_ID cannot exist; keep them away from the database driver.
    item_id = int(raw_id) if len(digits) <= len(str(MAX_ID)) else 0
    item = open_session().get(Item, item_id) if 1 <= item_id <= MAX_ID else None
    if item is None:
        abort_json(404, ITEM_NOT_FOUND)
    return item


def _get_own_item(raw_id: str) -> Item:
    item = _get_item(raw_id, get_session)
    user = get_current_user()
    if item.owner_id != user.id and not user.is_superuser:
        abort_json(403, "Not enough permissions")
    return item
