"""The Item resource's API, /api/v1/items.

Made by `scaffold new`, as the contract says: list and read publicly; create
with a token; change and delete as the owner or a superuser.
"""

import re
from collections.abc import Callable
from typing import Any

from flask import Response, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from example.api.blueprint import make_blueprint
from example.api.ws import publish
from example.db import get_read_session, get_session
from example.deps import BEARER, get_current_user, login_required
from example.errors import abort_json, abort_validation
from example.models import MAX_ID
from example.resources.items.model import Item
from example.resources.items.schemas import (
    ItemCreate,
    ItemPage,
    ItemRead,
    ItemUpdate,
)
from example.schemas import HTTPError, HTTPValidationError, ItemListQuery

blp = make_blueprint("items", url_prefix="/api/v1/items", description="Items and their owners.")

NOT_FOUND = "Item not found"
# The id is matched as text and checked here (no <int:> converter): a non-integer is a
# 422 on ["path", "item_id"] as in FastAPI, not a 404 from the router.
ID_PARAMETER = [{"in": "path", "name": "item_id", "schema": {"type": "integer"}}]
_INTEGER = re.compile(r"-?[0-9]+")
# The row as the REST API returns it, for the WebSocket events (api/ws.py).
AS_JSON = ItemRead()


@blp.route("", methods=["GET"])
@blp.arguments(ItemListQuery, location="query")
@blp.response(200, ItemPage)
@blp.alt_response(422, schema=HTTPValidationError)
def list_items(query: dict[str, int]) -> dict[str, Any]:
    """A page, ordered by id."""
    session = get_read_session()
    total = session.scalar(select(func.count(Item.id))) or 0
    statement = select(Item).order_by(Item.id)
    page = session.scalars(statement.limit(query["limit"]).offset(query["offset"])).all()
    return {"items": page, "total": total, **query}


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@login_required
@blp.arguments(ItemCreate)
@blp.response(201, ItemRead, headers={"Location": {"schema": {"type": "string"}}})
@blp.alt_response(401, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def create_item(values: dict[str, Any]) -> tuple[Item, int, dict[str, str]]:
    """Create one, owned by the current user."""
    row = Item(**values, owner_id=get_current_user().id)
    session = get_session()
    session.add(row)
    session.commit()
    publish("created", AS_JSON.dump(row))
    location = url_for(".read_item", item_id=row.id)
    return row, 201, {"Location": location}


@blp.route("/<item_id>", methods=["GET"], parameters=ID_PARAMETER)
@blp.response(200, ItemRead)
@blp.alt_response(404, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def read_item(item_id: str) -> Item:
    """One, by id."""
    return _get(item_id, get_read_session)


@blp.route("/<item_id>", methods=["PATCH"], parameters=ID_PARAMETER)
@blp.doc(security=BEARER)
@login_required
@blp.arguments(ItemUpdate)
@blp.response(200, ItemRead)
@blp.alt_response(401, schema=HTTPError)
@blp.alt_response(403, schema=HTTPError)
@blp.alt_response(404, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def update_item(changes: dict[str, Any], item_id: str) -> Item:
    """Change any subset of the fields (the owner or a superuser only)."""
    row = _get_own(item_id)
    for field, value in changes.items():
        setattr(row, field, value)
    get_session().commit()
    publish("updated", AS_JSON.dump(row))
    return row


@blp.route("/<item_id>", methods=["DELETE"], parameters=ID_PARAMETER)
@blp.doc(security=BEARER)
@login_required
@blp.response(204)
@blp.alt_response(401, schema=HTTPError)
@blp.alt_response(403, schema=HTTPError)
@blp.alt_response(404, schema=HTTPError)
@blp.alt_response(409, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def delete_item(item_id: str) -> Response:
    """Delete one (the owner or a superuser only); a 409 while other rows refer to it."""
    row = _get_own(item_id)
    session = get_session()
    deleted_id = row.id
    session.delete(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        abort_json(409, "Item is referred to by other rows")
    publish("deleted", {"id": deleted_id})
    # A Response passes through flask-smorest untouched: 204, no body, no Content-Type.
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response


def _get(raw_id: str, open_session: Callable[[], Session]) -> Item:
    if not _INTEGER.fullmatch(raw_id):
        abort_validation(
            ["path", "item_id"],
            "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
        )
    digits = raw_id.lstrip("+-0")
    # Ids outside 1..MAX_ID cannot exist; keep them away from the database driver.
    row_id = int(raw_id) if len(digits) <= len(str(MAX_ID)) else 0
    row = open_session().get(Item, row_id) if 1 <= row_id <= MAX_ID else None
    if row is None:
        abort_json(404, NOT_FOUND)
    return row


def _get_own(raw_id: str) -> Item:
    row = _get(raw_id, get_session)
    user = get_current_user()
    if row.owner_id != user.id and not user.is_superuser:
        abort_json(403, "Not enough permissions")
    return row
