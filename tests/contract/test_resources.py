"""The rows of a resource added with `scaffold add resource` (API-CONTRACT.md, "Resource"),
over real HTTP, with the same assertions for both frameworks: the item rules (list page,
ownership, 401/403/404/422, NUL and out-of-range ids) plus references (a missing row is a
422, deleting a referenced row a 409). conftest.RESOURCES adds Customer and Order.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contract.conftest import Server

pytestmark = [pytest.mark.contract, pytest.mark.every_database]

CUSTOMERS = "/api/v1/customers"
ORDERS = "/api/v1/orders"
ROW_KEYS = {"id", "owner_id", "created_at", "updated_at"}


def _create(server: Server, url: str, body: dict[str, Any]) -> dict[str, Any]:
    with server.client() as client:
        response = client.post(url, json=body, headers=server.auth(server.user))
    assert response.status_code == 201, (server.framework, response.text)
    row: dict[str, Any] = response.json()
    return row


def _locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


def test_a_resource_has_the_contracts_shape_and_list_page(server: Server) -> None:
    customer = _create(server, CUSTOMERS, {"name": "Ada", "vip": True})
    order = _create(server, ORDERS, {"customer_id": customer["id"], "total": "12.5"})

    with server.client() as client:
        page = client.get(ORDERS, params={"limit": 1}).json()
        found = client.get(f"{ORDERS}/{order['id']}")

    assert set(customer) == ROW_KEYS | {"name", "vip"}
    assert set(order) == ROW_KEYS | {"customer_id", "total", "note", "shipped_on"}
    assert (order["total"], order["note"], order["shipped_on"]) == ("12.50", None, None)
    assert order["owner_id"] == server.user_id(server.user)
    assert set(page) == {"items", "total", "limit", "offset"}
    assert (page["limit"], page["offset"]) == (1, 0)
    assert found.json() == order


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"vip": True}, ["body", "name"]),
        ({"name": "x" * 81, "vip": True}, ["body", "name"]),
        ({"name": "A\x00B", "vip": True}, ["body", "name"]),
        ({"name": "Ada", "vip": "yes"}, ["body", "vip"]),
        ({"name": "Ada", "vip": True, "owner_id": 1}, ["body", "owner_id"]),
    ],
    ids=["missing", "too-long", "nul", "not-a-bool", "read-only"],
)
def test_an_invalid_body_is_a_422_on_its_field(
    server: Server, body: dict[str, Any], loc: list[str]
) -> None:
    with server.client() as client:
        response = client.post(CUSTOMERS, json=body, headers=server.auth(server.user))

    assert loc in _locs(response)


@pytest.mark.parametrize("missing", [987654321, 2**31, 2**63])
def test_a_reference_to_a_missing_row_is_a_422(server: Server, missing: int) -> None:
    with server.client() as client:
        response = client.post(
            ORDERS, json={"customer_id": missing, "total": 1}, headers=server.auth(server.user)
        )

    assert ["body", "customer_id"] in _locs(response)


def test_deleting_a_referenced_row_is_a_409_until_it_is_free(server: Server) -> None:
    customer = _create(server, CUSTOMERS, {"name": "Bea", "vip": False})
    order = _create(server, ORDERS, {"customer_id": customer["id"], "total": "3"})
    headers = server.auth(server.user)

    with server.client() as client:
        refused = client.delete(f"{CUSTOMERS}/{customer['id']}", headers=headers)
        client.delete(f"{ORDERS}/{order['id']}", headers=headers)
        deleted = client.delete(f"{CUSTOMERS}/{customer['id']}", headers=headers)

    assert refused.status_code == 409
    assert set(refused.json()) == {"detail"}
    assert deleted.status_code == 204


def test_only_the_owner_or_a_superuser_changes_a_row(server: Server) -> None:
    customer = _create(server, CUSTOMERS, {"name": "Cy", "vip": False})
    url = f"{CUSTOMERS}/{customer['id']}"

    with server.client() as client:
        anonymous = client.patch(url, json={"vip": True})
        stranger = client.patch(url, json={"vip": True}, headers=server.auth(server.stranger))
        superuser = client.patch(url, json={"vip": True}, headers=server.auth(server.superuser))

    assert anonymous.status_code == 401
    assert stranger.status_code == 403
    assert superuser.status_code == 200
    assert superuser.json()["vip"] is True


@pytest.mark.parametrize("row_id", ["0", "-1", "987654321", str(2**31), str(2**63)])
def test_an_id_that_names_no_row_is_a_404(server: Server, row_id: str) -> None:
    with server.client() as client:
        response = client.get(f"{CUSTOMERS}/{row_id}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Customer not found"}


def test_an_id_that_is_no_integer_is_a_422_on_the_path(server: Server) -> None:
    with server.client() as client:
        response = client.get(f"{CUSTOMERS}/abc")

    assert ["path", "customer_id"] in _locs(response)
