"""The example Item's own rules, beyond what the resource template's tests check for it
(tests/test_items.py): its exact limits, the request bodies the API reads or refuses, and the
app's JSON errors, by way of /api/v1/items."""

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.orm import Session

from example.database_errors import (
    NulCharacterError,
    refuse_nul_characters,
)
from example.models import User
from example.resources.items.model import Item
from tests.common import ApiClient, Login, MakeUser

ITEMS = "/api/v1/items"
NUL_PATTERN_ERROR = "String should match pattern '^[^\\x00]*$'"
# Ids no row has: in the columns' range (32 bits) or beyond it, where the database driver
# would refuse them (PostgreSQL's integer; 64 bits).
OUT_OF_RANGE_IDS = [
    "0",
    "-1",
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    str(-(2**63) - 1),
    str(10**30),
]


def _create(client: ApiClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Widget", "price": 9.5, **fields}
    response = client.post(ITEMS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


def _locs(response: Any) -> list[list[str | int]]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    for error in detail:
        assert set(error) >= {"loc", "msg", "type"}
        assert isinstance(error["msg"], str)
        assert isinstance(error["type"], str)
    return [error["loc"] for error in detail]


def test_create_returns_201_with_location_and_the_item(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    response = client.post(
        ITEMS,
        json={"name": "Widget", "description": "A fine widget", "price": 9.5},
        headers=user_headers,
    )

    assert response.status_code == 201
    item = response.json()
    assert response.headers["Location"].endswith(f"/api/v1/items/{item['id']}")
    assert item["name"] == "Widget"
    assert item["description"] == "A fine widget"
    assert item["price"] == 9.5
    me = client.get("/api/v1/users/me", headers=user_headers).json()
    assert item["owner_id"] == me["id"]
    assert set(item) == {
        "id",
        "name",
        "description",
        "price",
        "owner_id",
        "created_at",
        "updated_at",
    }
    created_at = datetime.fromisoformat(item["created_at"])
    assert created_at.utcoffset() is not None
    datetime.fromisoformat(item["updated_at"])


def test_create_without_description_stores_null(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    item = _create(client, user_headers, price=0)

    assert item["description"] is None
    assert item["price"] == 0


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"price": 1}, ["body", "name"]),
        ({"name": "Widget"}, ["body", "price"]),
        ({"name": "", "price": 1}, ["body", "name"]),
        ({"name": "x" * 101, "price": 1}, ["body", "name"]),
        ({"name": "Widget", "price": -0.01}, ["body", "price"]),
        ({"name": "Widget", "price": "cheap"}, ["body", "price"]),
        ({"name": "Widget", "price": "12.5"}, ["body", "price"]),
        ({"name": "Widget", "price": True}, ["body", "price"]),
        ({"name": "Widget", "price": 1, "description": "d" * 1001}, ["body", "description"]),
        ({"name": "Widget", "price": 1, "colour": "red"}, ["body", "colour"]),
        ({"name": None, "price": 1}, ["body", "name"]),
    ],
    ids=[
        "missing-name",
        "missing-price",
        "empty-name",
        "long-name",
        "negative-price",
        "text-price",
        "numeric-string-price",
        "boolean-price",
        "long-description",
        "unknown-field",
        "null-name",
    ],
)
def test_create_rejects_invalid_bodies_with_422_list(
    client: ApiClient, user_headers: dict[str, str], body: dict[str, Any], loc: list[str]
) -> None:
    response = client.post(ITEMS, json=body, headers=user_headers)

    assert loc in _locs(response)


def test_malformed_json_is_a_422_not_a_500(client: ApiClient, user_headers: dict[str, str]) -> None:
    headers = {**user_headers, "Content-Type": "application/json"}
    response = client.post(ITEMS, content=b'{"name": "Widget", "price": ', headers=headers)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


@pytest.mark.parametrize(
    "body", [b'{"name": "caf\xe9", "price": 1}', b"[" * 100_000], ids=["latin-1", "deep"]
)
def test_unreadable_json_is_a_422_not_a_400(
    client: ApiClient, user_headers: dict[str, str], body: bytes
) -> None:
    headers = {**user_headers, "Content-Type": "application/json"}
    response = client.post(ITEMS, content=body, headers=headers)

    assert _locs(response)[0][:1] == ["body"]


def test_wrong_content_type_is_a_4xx_json_error(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    headers = {**user_headers, "Content-Type": "text/plain"}
    response = client.post(ITEMS, content=b"name=Widget", headers=headers)

    assert response.status_code in (400, 415, 422)
    assert "detail" in response.json()


def test_body_over_one_mebibyte_is_413(client: ApiClient, user_headers: dict[str, str]) -> None:
    big = b'{"name": "Widget", "price": 1, "description": "' + b"x" * (1024 * 1024) + b'"}'
    headers = {**user_headers, "Content-Type": "application/json"}
    response = client.post(ITEMS, content=big, headers=headers)

    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


@pytest.mark.parametrize("item_id", OUT_OF_RANGE_IDS)
def test_out_of_range_ids_are_404_for_every_method(
    client: ApiClient, user_headers: dict[str, str], item_id: str
) -> None:
    url = f"{ITEMS}/{item_id}"
    responses = [
        client.get(url),
        client.patch(url, json={"name": "Gadget"}, headers=user_headers),
        client.delete(url, headers=user_headers),
    ]

    for response in responses:
        assert response.status_code == 404
        assert response.json() == {"detail": "Item not found"}


@pytest.mark.parametrize("item_id", ["abc", "1_0", "+1", "1.0", "0x1"])
def test_non_integer_id_is_422_on_the_path(client: ApiClient, item_id: str) -> None:
    assert ["path", "item_id"] in _locs(client.get(f"{ITEMS}/{item_id}"))


def test_list_is_paginated_and_ordered_by_id(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    ids = [_create(client, user_headers, name=f"Item {n}")["id"] for n in range(5)]

    first = client.get(ITEMS, params={"limit": 2})
    rest = client.get(ITEMS, params={"limit": 10, "offset": 2})
    default = client.get(ITEMS)

    assert first.status_code == 200
    assert first.json()["total"] == 5
    assert first.json()["limit"] == 2
    assert first.json()["offset"] == 0
    assert [item["id"] for item in first.json()["items"]] == ids[:2]
    assert [item["id"] for item in rest.json()["items"]] == ids[2:]
    assert default.json()["limit"] == 20
    assert len(default.json()["items"]) == 5


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 101}, ["query", "limit"]),
        ({"limit": "many"}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
        ({"offset": 2**31}, ["query", "offset"]),
    ],
    ids=["limit-zero", "limit-too-big", "limit-text", "negative-offset", "huge-offset"],
)
def test_list_rejects_bad_pagination_with_422(
    client: ApiClient, params: dict[str, Any], loc: list[str]
) -> None:
    assert loc in _locs(client.get(ITEMS, params=params))


def test_owner_can_patch_any_subset_of_fields(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    item = _create(client, user_headers, description="old")

    renamed = client.patch(f"{ITEMS}/{item['id']}", json={"name": "Gadget"}, headers=user_headers)
    cleared = client.patch(
        f"{ITEMS}/{item['id']}", json={"description": None, "price": 3}, headers=user_headers
    )

    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Gadget"
    assert renamed.json()["price"] == 9.5
    assert cleared.status_code == 200
    assert cleared.json()["description"] is None
    assert cleared.json()["price"] == 3
    assert cleared.json()["name"] == "Gadget"
    assert client.get(f"{ITEMS}/{item['id']}").json() == cleared.json()


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": None}, ["body", "name"]),
        ({"price": None}, ["body", "price"]),
        ({"price": -1}, ["body", "price"]),
        ({"owner_id": 99}, ["body", "owner_id"]),
    ],
    ids=["null-name", "null-price", "negative-price", "unknown-field"],
)
def test_patch_rejects_invalid_bodies_with_422(
    client: ApiClient, user_headers: dict[str, str], body: dict[str, Any], loc: list[str]
) -> None:
    item = _create(client, user_headers)

    assert loc in _locs(client.patch(f"{ITEMS}/{item['id']}", json=body, headers=user_headers))


@pytest.mark.parametrize("field", ["name", "description"])
def test_text_with_a_nul_character_is_a_422_on_its_field_on_every_database(
    client: ApiClient, user_headers: dict[str, str], field: str
) -> None:
    item = _create(client, user_headers)
    text = {field: "Wid\x00get"}

    created = client.post(ITEMS, json={"name": "Widget", "price": 1, **text}, headers=user_headers)
    patched = client.patch(f"{ITEMS}/{item['id']}", json=text, headers=user_headers)

    for response in (created, patched):
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", field], "msg": NUL_PATTERN_ERROR, "type": "string_pattern_mismatch"}
        ]
    assert client.get(ITEMS).json()["items"] == [item]


def test_the_database_layer_refuses_text_with_a_nul_character(engine: Engine) -> None:
    """database_errors.refuse_nul_characters: text that no validation caught never reaches
    the driver (PostgreSQL's would fail the request with a 500), on every database alike."""
    guarded = create_engine(engine.url)
    refuse_nul_characters(guarded)
    rows = [
        {"email": "ada@example.com", "hashed_password": "x"},
        {"email": "bob\x00@example.com", "hashed_password": "x"},
    ]
    try:
        with guarded.connect() as connection:
            with pytest.raises(NulCharacterError):
                connection.execute(select(User.id).where(User.email.contains("\x00")))
            with pytest.raises(NulCharacterError):
                connection.execute(insert(User), rows)
            connection.rollback()
            connection.execute(insert(User), rows[:1])
            assert connection.scalars(select(User.email)).all() == ["ada@example.com"]
    finally:
        guarded.dispose()


def test_only_the_owner_or_a_superuser_may_change_an_item(
    client: ApiClient,
    make_user: MakeUser,
    login: Login,
    user_headers: dict[str, str],
    superuser_headers: dict[str, str],
) -> None:
    item = _create(client, user_headers)
    make_user("mallory@example.com")
    stranger = login("mallory@example.com")
    url = f"{ITEMS}/{item['id']}"

    patch_denied = client.patch(url, json={"name": "Mine"}, headers=stranger)
    delete_denied = client.delete(url, headers=stranger)
    patched_by_admin = client.patch(url, json={"name": "Audited"}, headers=superuser_headers)

    assert patch_denied.status_code == 403
    assert patch_denied.json() == {"detail": "Not enough permissions"}
    assert delete_denied.status_code == 403
    assert patched_by_admin.status_code == 200
    assert patched_by_admin.json()["owner_id"] == item["owner_id"]
    assert client.delete(url, headers=superuser_headers).status_code == 204


def test_delete_returns_204_with_an_empty_body_then_404(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    item = _create(client, user_headers)
    url = f"{ITEMS}/{item['id']}"

    deleted = client.delete(url, headers=user_headers)

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=user_headers).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=user_headers).status_code == 404


def test_changing_items_requires_a_token(client: ApiClient, user_headers: dict[str, str]) -> None:
    item = _create(client, user_headers)
    url = f"{ITEMS}/{item['id']}"

    assert client.patch(url, json={"name": "x"}).status_code == 401
    assert client.delete(url).status_code == 401


def test_unknown_routes_and_methods_answer_in_json(client: ApiClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    wrong_method = client.delete(ITEMS)

    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"detail": "Method Not Allowed"}


def test_deleting_a_user_deletes_their_items(
    client: ApiClient, user_headers: dict[str, str], engine: Engine
) -> None:
    """The items' owner_id is ON DELETE CASCADE (User has no relationship to them)."""
    mine = _create(client, user_headers)
    me = client.get("/api/v1/users/me", headers=user_headers).json()

    with Session(engine) as session:
        session.delete(session.get(User, me["id"]))
        session.commit()

    assert client.get(f"{ITEMS}/{mine['id']}").status_code == 404
    with Session(engine) as session:
        assert session.scalars(select(Item)).all() == []
