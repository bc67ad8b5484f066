"""The resource's API, as the contract says (made by `scaffold new`).

/api/v1/items: the Item resource.
"""

import html
from typing import Any

import pytest

from example.resources.items.model import Item
from tests.common import ApiClient, Login, LogInAdmin, MakeUser
from tests.test_admin import assert_redirects_to

URL = "/api/v1/items"
NUL_PATTERN_ERROR = "String should match pattern '^[^\\x00]*$'"
# Ids no row has: in the columns' range (32 bits) or beyond it.
OUT_OF_RANGE_IDS = ["0", "-1", str(2**31), str(2**63), str(10**30)]
# The fields' values in a valid body; `valid_body` adds the ids of the rows referred to.
SAMPLE: dict[str, Any] = {
    "name": "Ada",
    "description": "Ada",
    "price": 9.5,
}
# Other valid values, for updates.
OTHER: dict[str, Any] = {
    "name": "Grace",
    "description": "Grace",
    "price": 0.25,
}
# A value of each field that is a 422 (and one just below its limit, if it has one).
INVALID = [
    ("name", "x" * 101),
    ("name", ""),
    ("description", "x" * 1001),
    ("price", "cheap"),
    ("price", -1),
]
# The admin's form of a valid row, as typed (`admin_form` adds the rows it refers to).
FORM: dict[str, str] = {
    "name": "Ada",
    "price": "9.5",
}
# A value of each field that the admin's form refuses, as the API does.
ADMIN_INVALID = [
    ("name", "x" * 101),
    ("description", "x" * 1001),
    ("price", -1),
]


def valid_body(client: ApiClient, headers: dict[str, str]) -> dict[str, Any]:
    """Every field, with the rows it refers to created first (by the same user)."""
    return dict(SAMPLE)


def create_item(client: ApiClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {**valid_body(client, headers), **fields}
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 201, response.text
    row: dict[str, Any] = response.json()
    return row


def _locs(response: Any) -> list[list[str | int]]:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    return [error["loc"] for error in detail]


def test_create_returns_201_with_location_and_the_item(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    body = valid_body(client, user_headers)

    response = client.post(URL, json=body, headers=user_headers)

    assert response.status_code == 201, response.text
    row = response.json()
    assert response.headers["Location"].endswith(f"{URL}/{row['id']}")
    assert set(row) == {"id", *body, "owner_id", "created_at", "updated_at"}
    assert {field: row[field] for field in body} == body
    me = client.get("/api/v1/users/me", headers=user_headers).json()
    assert row["owner_id"] == me["id"]
    assert client.get(f"{URL}/{row['id']}").json() == row


def test_optional_fields_may_be_left_out_and_are_null(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    body = valid_body(client, user_headers)
    optional = ["description"]

    row = create_item(client, user_headers, **dict.fromkeys(optional))
    response = client.post(
        URL,
        json={key: value for key, value in body.items() if key not in optional},
        headers=user_headers,
    )

    assert response.status_code == 201, response.text
    for field in optional:
        assert row[field] is None
        assert response.json()[field] is None


def test_create_requires_a_token(client: ApiClient, user_headers: dict[str, str]) -> None:
    response = client.post(URL, json=valid_body(client, user_headers))

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize(("field", "value"), INVALID)
def test_an_invalid_value_is_a_422_on_its_field(
    client: ApiClient, user_headers: dict[str, str], field: str, value: Any
) -> None:
    body = {**valid_body(client, user_headers), field: value}
    row = create_item(client, user_headers)

    created = client.post(URL, json=body, headers=user_headers)
    patched = client.patch(f"{URL}/{row['id']}", json={field: value}, headers=user_headers)

    assert ["body", field] in _locs(created)
    assert ["body", field] in _locs(patched)


@pytest.mark.parametrize("field", ["name", "price"])
def test_a_required_field_may_be_neither_left_out_nor_null(
    client: ApiClient, user_headers: dict[str, str], field: str
) -> None:
    body = valid_body(client, user_headers)
    row = create_item(client, user_headers)
    missing = {key: value for key, value in body.items() if key != field}

    assert ["body", field] in _locs(client.post(URL, json=missing, headers=user_headers))
    assert ["body", field] in _locs(
        client.post(URL, json={**body, field: None}, headers=user_headers)
    )
    assert ["body", field] in _locs(
        client.patch(f"{URL}/{row['id']}", json={field: None}, headers=user_headers)
    )


@pytest.mark.parametrize("field", ["colour", "id", "owner_id", "created_at"])
def test_an_unknown_or_read_only_field_is_a_422(
    client: ApiClient, user_headers: dict[str, str], field: str
) -> None:
    body = {**valid_body(client, user_headers), field: 1}
    row = create_item(client, user_headers)

    assert ["body", field] in _locs(client.post(URL, json=body, headers=user_headers))
    patched = client.patch(f"{URL}/{row['id']}", json={field: 1}, headers=user_headers)
    assert ["body", field] in _locs(patched)


@pytest.mark.parametrize("field", ["name", "description"])
def test_text_with_a_nul_character_is_a_422_on_its_field(
    client: ApiClient, user_headers: dict[str, str], field: str
) -> None:
    row = create_item(client, user_headers)
    text = {field: "A\x00B"}
    body = {**valid_body(client, user_headers), **text}

    created = client.post(URL, json=body, headers=user_headers)
    patched = client.patch(f"{URL}/{row['id']}", json=text, headers=user_headers)

    for response in (created, patched):
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {"loc": ["body", field], "msg": NUL_PATTERN_ERROR, "type": "string_pattern_mismatch"}
        ]


def test_get_returns_the_item_and_404_for_unknown_ids(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    row = create_item(client, user_headers)

    found = client.get(f"{URL}/{row['id']}")
    missing = client.get(f"{URL}/{row['id'] + 1000}")

    assert found.status_code == 200
    assert found.json() == row
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Item not found"}


@pytest.mark.parametrize("row_id", OUT_OF_RANGE_IDS)
def test_out_of_range_ids_are_404_for_every_method(
    client: ApiClient, user_headers: dict[str, str], row_id: str
) -> None:
    url = f"{URL}/{row_id}"
    responses = [
        client.get(url),
        client.patch(url, json={}, headers=user_headers),
        client.delete(url, headers=user_headers),
    ]

    for response in responses:
        assert response.status_code == 404
        assert response.json() == {"detail": "Item not found"}


@pytest.mark.parametrize("row_id", ["abc", "1_0", "+1", "1.0"])
def test_a_non_integer_id_is_a_422_on_the_path(client: ApiClient, row_id: str) -> None:
    assert ["path", "item_id"] in _locs(client.get(f"{URL}/{row_id}"))


def test_the_list_is_paginated_and_ordered_by_id(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    ids = [create_item(client, user_headers)["id"] for _ in range(3)]

    first = client.get(URL, params={"limit": 2})
    rest = client.get(URL, params={"limit": 10, "offset": 2})

    assert first.status_code == 200
    assert {key: first.json()[key] for key in ("total", "limit", "offset")} == {
        "total": 3,
        "limit": 2,
        "offset": 0,
    }
    assert [row["id"] for row in first.json()["items"]] == ids[:2]
    assert [row["id"] for row in rest.json()["items"]] == ids[2:]
    assert client.get(URL).json()["limit"] == 20


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 101}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
        ({"offset": 2**31}, ["query", "offset"]),
    ],
)
def test_bad_pagination_is_a_422(client: ApiClient, params: dict[str, Any], loc: list[str]) -> None:
    assert loc in _locs(client.get(URL, params=params))


def test_the_owner_can_patch_any_subset_of_the_fields(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    row = create_item(client, user_headers)
    url = f"{URL}/{row['id']}"

    unchanged = client.patch(url, json={}, headers=user_headers)
    changed = client.patch(url, json=OTHER, headers=user_headers)

    assert unchanged.status_code == 200
    assert {key: unchanged.json()[key] for key in SAMPLE} == SAMPLE
    assert changed.status_code == 200
    assert {key: changed.json()[key] for key in OTHER} == OTHER
    assert client.get(url).json() == changed.json()
    optional = ["description"]
    cleared = client.patch(url, json=dict.fromkeys(optional), headers=user_headers)
    assert cleared.status_code == 200


def test_only_the_owner_or_a_superuser_may_change_or_delete_it(
    client: ApiClient,
    make_user: MakeUser,
    login: Login,
    user_headers: dict[str, str],
    superuser_headers: dict[str, str],
) -> None:
    row = create_item(client, user_headers)
    make_user("mallory@example.com")
    stranger = login("mallory@example.com")
    url = f"{URL}/{row['id']}"

    patch_denied = client.patch(url, json={}, headers=stranger)
    delete_denied = client.delete(url, headers=stranger)
    patched_by_admin = client.patch(url, json={}, headers=superuser_headers)

    assert patch_denied.status_code == 403
    assert patch_denied.json() == {"detail": "Not enough permissions"}
    assert delete_denied.status_code == 403
    assert patched_by_admin.status_code == 200
    assert patched_by_admin.json()["owner_id"] == row["owner_id"]
    assert client.delete(url, headers=superuser_headers).status_code == 204


def test_delete_returns_204_with_an_empty_body_then_404(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    row = create_item(client, user_headers)
    url = f"{URL}/{row['id']}"

    deleted = client.delete(url, headers=user_headers)

    assert deleted.status_code == 204
    assert deleted.content == b""
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=user_headers).status_code == 404


def test_changing_requires_a_token(client: ApiClient, user_headers: dict[str, str]) -> None:
    url = f"{URL}/{create_item(client, user_headers)['id']}"

    assert client.patch(url, json={}).status_code == 401
    assert client.delete(url).status_code == 401


def test_the_admin_lists_them_for_superusers_only(
    client: ApiClient,
    make_user: MakeUser,
    user_headers: dict[str, str],
    log_in_admin: LogInAdmin,
) -> None:
    create_item(client, user_headers)
    list_url = "/admin/item/"

    anonymous = client.get(list_url, follow_redirects=False)
    log_in_admin(make_user("admin@example.com", is_superuser=True))
    listed = client.get(list_url)

    assert anonymous.status_code in (302, 303)
    assert listed.status_code == 200


def test_the_admin_form_refuses_what_the_api_refuses_with_its_message(
    client: ApiClient,
    make_user: MakeUser,
    user_headers: dict[str, str],
    log_in_admin: LogInAdmin,
) -> None:
    """The form again, never a 500: the database would refuse some of these values itself
    (PostgreSQL: an over-long string, an out-of-range number)."""
    body = valid_body(client, user_headers)
    me = client.get("/api/v1/users/me", headers=user_headers).json()
    form = {**FORM, "owner": str(me["id"])}
    admin = log_in_admin(make_user("admin@example.com", is_superuser=True))
    form["csrf_token"] = admin.csrf_token
    create_url = "/admin/item/new/"

    for field, value in ADMIN_INVALID:
        api = client.post(URL, json={**body, field: value}, headers=user_headers)
        message = next(e["msg"] for e in api.json()["detail"] if e["loc"] == ["body", field])
        refused = client.post(create_url, data={**form, field: str(value)}, follow_redirects=False)

        assert refused.status_code == 200, (field, refused.text)
        assert message in html.unescape(refused.text), (field, message)
    assert client.get(URL).json()["total"] == 0
    created = client.post(create_url, data=form, follow_redirects=False)
    assert_redirects_to(created, "/admin/item/")
    assert client.get(URL).json()["total"] == 1


def test_a_row_reads_as_its_name() -> None:
    assert str(Item(id=3, name="Ada")) == "Ada"
