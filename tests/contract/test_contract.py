"""The API contract (/work/shared/API-CONTRACT.md), over real HTTP, against both frameworks.

Every test runs once per framework (the ``server`` fixture is parametrized); no assertion
depends on the framework. The WebSocket row is a later issue and not tested here.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import jwt
import pytest
from websockets.sync.client import connect as ws_connect

from tests.contract.conftest import (
    RATE_LIMIT_ATTEMPTS,
    TOKEN_URL,
    Credentials,
    EventServer,
    Server,
)
from tests.contract.helpers import (
    ITEM_KEYS,
    ITEMS,
    FormParser,
    admin_login,
    assert_item,
    assert_status,
    create_item,
    describe,
    json_body,
    media_type,
)

pytestmark = pytest.mark.contract
# On SQLite and on PostgreSQL (conftest.py): the rows whose answers the database could change.
every_database = pytest.mark.every_database

ME = "/api/v1/users/me"
MAX_BODY = 1024 * 1024
MAX_ID = 2**63 - 1
UNKNOWN_ID = 987654321
USER_KEYS = {"id", "email", "is_active", "is_superuser"}
PAGE_KEYS = {"items", "total", "limit", "offset"}
NOT_AUTHENTICATED = "Not authenticated"
BAD_CREDENTIALS = "Could not validate credentials"
BAD_LOGIN = "Incorrect email or password"
FORBIDDEN = "Not enough permissions"
ITEM_NOT_FOUND = "Item not found"
TOO_MANY_LOGINS = "Too many login attempts; try again later"


# --- helpers ---------------------------------------------------------------------------


def assert_error(response: httpx.Response, status: int, detail: str) -> None:
    """The error envelope: exactly {"detail": "<message>"}, as JSON."""
    assert_status(response, status)
    assert json_body(response) == {"detail": detail}, describe(response)


def assert_unauthorized(response: httpx.Response, detail: str) -> None:
    assert_error(response, 401, detail)
    assert response.headers.get("www-authenticate", "").lower() == "bearer", describe(response)


def assert_validation_error(
    response: httpx.Response, location: str, field: str | int | None = None
) -> None:
    """422 in FastAPI's shape; one error at ``[location, field, ...]`` (or just ``[location]``)."""
    assert_status(response, 422)
    body = json_body(response)
    assert set(body) == {"detail"}, describe(response)
    errors = body["detail"]
    assert isinstance(errors, list), describe(response)
    assert errors, describe(response)
    for error in errors:
        assert isinstance(error, dict), describe(response)
        assert {"loc", "msg", "type"} <= set(error), describe(response)
        assert isinstance(error["loc"], list), describe(response)
        assert error["loc"], describe(response)
        assert error["loc"][0] in ("body", "query", "path"), describe(response)
        assert isinstance(error["msg"], str), describe(response)
        assert isinstance(error["type"], str), describe(response)
    expected = [location] if field is None else [location, field]
    assert any(error["loc"][: len(expected)] == expected for error in errors), (
        f"no error at {expected}: {describe(response)}"
    )


def assert_never_server_error(response: httpx.Response) -> None:
    """Whatever the input: no 5xx, and the answer is JSON, never an HTML error page."""
    assert response.status_code < 500, describe(response)
    body = json_body(response)
    if response.status_code >= 400:
        assert "detail" in body, describe(response)


def assert_user(body: object, expected: dict[str, Any]) -> None:
    assert isinstance(body, dict), body
    assert set(body) == USER_KEYS, body
    assert body == expected
    assert not any("password" in key or "hash" in key for key in body), body


def all_items(client: httpx.Client) -> tuple[list[dict[str, Any]], int]:
    """Every item, page by page (limit 100), and the total the first page reported."""
    first = client.get(ITEMS, params={"limit": 100, "offset": 0})
    assert_status(first, 200)
    total = first.json()["total"]
    items = list(first.json()["items"])
    while len(items) < total:
        page = client.get(ITEMS, params={"limit": 100, "offset": len(items)})
        assert_status(page, 200)
        assert page.json()["items"], describe(page)
        items.extend(page.json()["items"])
    return items, total


@pytest.fixture
def client(server: Server) -> httpx.Client:
    """A client from 127.0.0.1 that never logs in."""
    return server.client()


@pytest.fixture
def user_item(server: Server) -> dict[str, Any]:
    """A fresh item owned by the normal user."""
    return create_item(server, server.user, name="owned by user", description="d")


@pytest.fixture
def inactive_token(server: Server) -> str:
    """A token obtained while the INACTIVE user was active; the user is deactivated after."""
    token = server.token(server.inactive)  # cached after the first login
    server.execute_sql("UPDATE users SET is_active = false WHERE email = ?", server.inactive.email)
    return token


@pytest.fixture
def deleted_token(server: Server) -> str:
    """A token of the DOOMED user, who is then deleted from the database."""
    token = server.token(server.doomed)  # cached after the first login
    server.execute_sql("DELETE FROM users WHERE email = ?", server.doomed.email)
    return token


# --- health and cross-cutting ------------------------------------------------------------


def test_health(client: httpx.Client) -> None:
    response = client.get("/health")
    assert_status(response, 200)
    assert json_body(response) == {"status": "ok", "database": "ok"}


def test_liveness_and_readiness_without_redis(client: httpx.Client) -> None:
    live = client.get("/health/live")
    assert_status(live, 200)
    assert json_body(live) == {"status": "ok"}
    ready = client.get("/health/ready")
    assert_status(ready, 200)
    assert json_body(ready) == {"status": "ok", "database": "ok"}  # no REDIS_URL: no "redis"


def test_metrics_are_a_404_when_off(client: httpx.Client) -> None:
    assert_error(client.get("/metrics"), 404, "Not Found")


def live_requests_counted(server: Server) -> float:
    with httpx.Client(base_url=server.base_url, timeout=10.0) as fresh:  # any worker answers
        response = fresh.get("/metrics")
    assert_status(response, 200)
    assert response.headers["content-type"].startswith("text/plain"), describe(response)
    series = 'http_requests_total{method="GET",route="/health/live",status="200"} '
    lines = [line for line in response.text.splitlines() if line.startswith(series)]
    return float(lines[0].removeprefix(series)) if lines else 0.0


def test_metrics_add_up_the_requests_of_every_worker(event_server: EventServer) -> None:
    server = event_server.server
    before = live_requests_counted(server)
    requests = 24
    for _ in range(requests):  # a new connection each: the workers take turns accepting
        with httpx.Client(base_url=server.base_url, timeout=10.0) as fresh:
            assert_status(fresh.get("/health/live"), 200)
    # whichever worker answers, it reports the sum over both
    after = [live_requests_counted(server) - before for _ in range(6)]
    assert after == [requests] * 6


def test_readiness_checks_redis_when_redis_url_is_set(event_server: EventServer) -> None:
    ready = event_server.server.client().get("/health/ready")
    assert_status(ready, 200)
    assert json_body(ready) == {"status": "ok", "database": "ok", "redis": "ok"}


def test_request_id_is_echoed_or_generated(client: httpx.Client) -> None:
    echoed = client.get("/health", headers={"X-Request-ID": "contract-test-42"})
    assert echoed.headers.get("x-request-id") == "contract-test-42", describe(echoed)
    generated = client.get("/api/v1/does-not-exist")
    assert generated.headers.get("x-request-id"), describe(generated)


def test_unknown_route_is_json_404(client: httpx.Client) -> None:
    assert_error(client.get("/api/v1/does-not-exist"), 404, "Not Found")
    assert_error(client.post("/nowhere", json={}), 404, "Not Found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/health"), ("PUT", f"{ITEMS}/1"), ("GET", TOKEN_URL), ("PATCH", ITEMS)],
)
def test_wrong_method_is_json_405(client: httpx.Client, method: str, path: str) -> None:
    assert_error(client.request(method, path), 405, "Method Not Allowed")


# --- POST /api/v1/auth/token --------------------------------------------------------------


def test_token_success(server: Server) -> None:
    response = server.login(server.user.email, server.user.password)
    assert_status(response, 200)
    body = json_body(response)
    assert set(body) == {"access_token", "token_type"}, body
    assert body["token_type"] == "bearer"  # noqa: S105
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"
    claims = jwt.decode(
        body["access_token"],
        server.secret_key,
        algorithms=["HS256"],
        options={"require": ["sub", "exp"]},
    )
    assert int(claims["sub"]) == server.user_id(server.user)
    me = server.client().get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert_status(me, 200)


def test_token_failures_have_one_body(server: Server, inactive_token: str) -> None:
    """Wrong password, unknown e-mail and inactive user are indistinguishable."""
    wrong_password = server.login(server.user.email, "not-the-password")
    unknown_user = server.login("nobody-here@example.com", server.user.password)
    inactive_user = server.login(server.inactive.email, server.inactive.password)
    for response in (wrong_password, unknown_user, inactive_user):
        assert_error(response, 401, BAD_LOGIN)
    assert wrong_password.content == unknown_user.content == inactive_user.content


@pytest.mark.parametrize(
    ("form", "missing"),
    [
        ({"password": "x"}, "username"),
        ({"username": "user@example.com"}, "password"),
        ({}, "username"),
    ],
    ids=["no-username", "no-password", "empty-form"],
)
def test_token_missing_field_is_422(server: Server, form: dict[str, str], missing: str) -> None:
    response = server.client(fresh_address=True).post(TOKEN_URL, data=form)
    assert_validation_error(response, "body", missing)


def test_token_json_instead_of_form_is_422(server: Server) -> None:
    client = server.client(fresh_address=True)
    response = client.post(TOKEN_URL, json={"username": "user@example.com", "password": "x"})
    assert_validation_error(response, "body")


# --- GET /api/v1/users/me -----------------------------------------------------------------


def test_users_me(server: Server) -> None:
    client = server.client()
    for who in (server.user, server.superuser):
        response = client.get(ME, headers=server.auth(who))
        assert_status(response, 200)
        assert_user(
            json_body(response),
            {
                "id": server.user_id(who),
                "email": who.email,
                "is_active": True,
                "is_superuser": who.superuser,
            },
        )
        assert "argon2" not in response.text


PROTECTED = [
    ("GET", ME),
    ("POST", f"{ME}/password"),
    ("POST", ITEMS),
    ("PATCH", f"{ITEMS}/{UNKNOWN_ID}"),
    ("DELETE", f"{ITEMS}/{UNKNOWN_ID}"),
]
PROTECTED_IDS = [f"{method} {path}" for method, path in PROTECTED]


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=PROTECTED_IDS)
def test_missing_token_is_401(client: httpx.Client, method: str, path: str) -> None:
    body = {"name": "x", "price": 1} if method in ("POST", "PATCH") else None
    assert_unauthorized(client.request(method, path, json=body), NOT_AUTHENTICATED)


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwYXNz", "Token abc"], ids=["basic", "token"]
)
def test_non_bearer_authorization_is_401(client: httpx.Client, authorization: str) -> None:
    assert_unauthorized(client.get(ME, headers={"Authorization": authorization}), NOT_AUTHENTICATED)


def _tampered_signature(server: Server) -> str:
    header, payload, signature = server.token(server.user).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{header}.{payload}.{flipped}"


def _tampered_payload(server: Server) -> str:
    """The normal user's real signature on a payload that names the superuser."""
    header, _, signature = server.token(server.user).split(".")
    forged = server.craft_token(str(server.user_id(server.superuser))).split(".")[1]
    return f"{header}.{forged}.{signature}"


BAD_TOKENS: dict[str, Callable[[Server], str]] = {
    "expired": lambda s: s.craft_token(str(s.user_id(s.user)), expires_in=timedelta(minutes=-5)),
    "tampered-signature": _tampered_signature,
    "tampered-payload": _tampered_payload,
    "wrong-key": lambda s: s.craft_token(str(s.user_id(s.user)), key="not-the-server-key" * 3),
    "alg-none": lambda s: jwt.encode(
        {"sub": str(s.user_id(s.user)), "exp": datetime.now().timestamp() + 600},
        key=None,
        algorithm="none",
    ),
    "no-exp": lambda s: jwt.encode({"sub": str(s.user_id(s.user))}, s.secret_key, "HS256"),
    "no-sub": lambda s: jwt.encode(
        {"exp": datetime.now().timestamp() + 600}, s.secret_key, "HS256"
    ),
    "non-numeric-sub": lambda s: s.craft_token("user@example.com"),
    "unknown-user": lambda s: s.craft_token(str(UNKNOWN_ID)),
    "huge-sub": lambda s: s.craft_token(str(2**70)),
    "garbage": lambda s: "not.a.jwt",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_bad_token_is_401(server: Server, kind: str) -> None:
    token = BAD_TOKENS[kind](server)
    response = server.client().get(ME, headers={"Authorization": f"Bearer {token}"})
    assert_unauthorized(response, BAD_CREDENTIALS)


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=PROTECTED_IDS)
def test_expired_token_is_401_everywhere(server: Server, method: str, path: str) -> None:
    token = server.craft_token(str(server.user_id(server.user)), expires_in=timedelta(seconds=-1))
    body = {"name": "x", "price": 1} if method in ("POST", "PATCH") else None
    response = server.client().request(
        method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert_unauthorized(response, BAD_CREDENTIALS)


def test_token_of_deleted_user_is_401(server: Server, deleted_token: str) -> None:
    response = server.client().get(ME, headers={"Authorization": f"Bearer {deleted_token}"})
    assert_unauthorized(response, BAD_CREDENTIALS)


def test_token_of_inactive_user_is_401(server: Server, inactive_token: str) -> None:
    headers = {"Authorization": f"Bearer {inactive_token}"}
    client = server.client()
    assert_unauthorized(client.get(ME, headers=headers), BAD_CREDENTIALS)
    created = client.post(ITEMS, json={"name": "x", "price": 1}, headers=headers)
    assert_unauthorized(created, BAD_CREDENTIALS)


def test_crafted_token_with_the_server_key_is_accepted(server: Server) -> None:
    """The contract's token format (HS256, sub = user id, exp) is all a server checks."""
    token = server.craft_token(str(server.user_id(server.user)))
    response = server.client().get(ME, headers={"Authorization": f"Bearer {token}"})
    assert_status(response, 200)
    assert json_body(response)["email"] == server.user.email


# --- GET /api/v1/items --------------------------------------------------------------------


@every_database
def test_items_list_defaults(client: httpx.Client, user_item: dict[str, Any]) -> None:
    response = client.get(ITEMS)
    assert_status(response, 200)
    body = json_body(response)
    assert set(body) == PAGE_KEYS, body
    assert body["limit"] == 20
    assert body["offset"] == 0
    assert isinstance(body["total"], int)
    assert body["total"] >= 1
    assert len(body["items"]) == min(20, body["total"])
    for item in body["items"]:
        assert_item(item)


@every_database
def test_items_list_pagination_and_order(server: Server, client: httpx.Client) -> None:
    created = [create_item(server, server.user, name=f"page-{n}", price=n) for n in range(3)]
    items, total = all_items(client)
    ids = [item["id"] for item in items]
    assert len(items) == total
    assert ids == sorted(ids), "items are not ordered by id"
    assert len(set(ids)) == len(ids)
    for item in created:
        assert item in items
    windows = [(1, 0), (2, 1), (3, total - 3), (2, total - 1), (5, total), (100, total + 10)]
    for limit, offset in windows:
        response = client.get(ITEMS, params={"limit": limit, "offset": offset})
        assert_status(response, 200)
        assert response.json() == {
            "items": items[offset : offset + limit],
            "total": total,
            "limit": limit,
            "offset": offset,
        }, describe(response)


@every_database
@pytest.mark.parametrize(
    "params",
    [{"limit": 1}, {"limit": 100}, {"offset": 0}, {"offset": 2147483647}],
    ids=["limit-1", "limit-100", "offset-0", "offset-max"],
)
def test_items_list_bounds_accepted(client: httpx.Client, params: dict[str, int]) -> None:
    response = client.get(ITEMS, params=params)
    assert_status(response, 200)
    body = json_body(response)
    assert body["limit"] == params.get("limit", 20)
    assert body["offset"] == params.get("offset", 0)


@every_database
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"limit": ""}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"offset": "2147483648"}, "offset"),
        ({"offset": "99999999999999999999999"}, "offset"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else str(v),
)
def test_items_list_bad_params_are_422(
    client: httpx.Client, params: dict[str, str], field: str
) -> None:
    assert_validation_error(client.get(ITEMS, params=params), "query", field)


# --- POST /api/v1/items -------------------------------------------------------------------


@every_database
def test_create_item(server: Server) -> None:
    client = server.client()
    payload = {"name": "Contract widget", "description": "made by the contract", "price": 12.25}
    response = client.post(ITEMS, json=payload, headers=server.auth(server.user))
    assert_status(response, 201)
    item = assert_item(json_body(response))
    assert {key: item[key] for key in payload} == payload
    assert item["owner_id"] == server.user_id(server.user)
    location = response.headers.get("location")
    assert location, describe(response)
    # A relative reference or an absolute URL: either resolves to the item's URL.
    assert urljoin(f"{server.base_url}{ITEMS}", location) == (
        f"{server.base_url}{ITEMS}/{item['id']}"
    ), location
    fetched = client.get(location)
    assert_status(fetched, 200)
    assert fetched.json() == item


@every_database
def test_create_item_minimal_and_boundaries(server: Server) -> None:
    minimal = create_item(server, server.user, name="n", price=0)
    assert minimal["description"] is None
    assert minimal["price"] == 0
    longest = create_item(server, server.superuser, name="x" * 100, description="d" * 1000)
    assert len(longest["name"]) == 100
    assert len(longest["description"]) == 1000
    assert longest["owner_id"] == server.user_id(server.superuser)
    explicit_null = create_item(server, server.user, description=None)
    assert explicit_null["description"] is None


BAD_ITEMS: list[tuple[str, object, str | None]] = [
    ("missing-name", {"price": 1}, "name"),
    ("empty-name", {"name": "", "price": 1}, "name"),
    ("long-name", {"name": "x" * 101, "price": 1}, "name"),
    ("null-name", {"name": None, "price": 1}, "name"),
    ("number-name", {"name": 5, "price": 1}, "name"),
    ("missing-price", {"name": "x"}, "price"),
    ("negative-price", {"name": "x", "price": -0.01}, "price"),
    ("null-price", {"name": "x", "price": None}, "price"),
    ("text-price", {"name": "x", "price": "cheap"}, "price"),
    ("bool-price", {"name": "x", "price": True}, "price"),
    ("long-description", {"name": "x", "price": 1, "description": "d" * 1001}, "description"),
    ("unknown-field", {"name": "x", "price": 1, "owner_id": 1}, "owner_id"),
    ("list-body", [{"name": "x", "price": 1}], None),
    ("string-body", "name", None),
    ("null-body", None, None),
]


@every_database
@pytest.mark.parametrize(
    ("payload", "field"),
    [(payload, field) for _, payload, field in BAD_ITEMS],
    ids=[name for name, _, _ in BAD_ITEMS],
)
def test_create_item_invalid_is_422(server: Server, payload: object, field: str | None) -> None:
    headers = {**server.auth(server.user), "Content-Type": "application/json"}
    response = server.client().post(ITEMS, content=json.dumps(payload), headers=headers)
    assert_validation_error(response, "body", field)


@every_database
@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "x", "price": NaN}',
        '{"name": "x", "price": Infinity}',
        '{"name": "x", "price": -Infinity}',
        '{"name": "x", "price": 1e999}',
    ],
    ids=["nan", "infinity", "minus-infinity", "overflow"],
)
def test_create_item_non_finite_price_is_422(server: Server, raw: str) -> None:
    headers = {**server.auth(server.user), "Content-Type": "application/json"}
    response = server.client().post(ITEMS, content=raw, headers=headers)
    assert_validation_error(response, "body")


# --- GET /api/v1/items/{item_id} ----------------------------------------------------------


@every_database
def test_get_item(client: httpx.Client, user_item: dict[str, Any]) -> None:
    response = client.get(f"{ITEMS}/{user_item['id']}")
    assert_status(response, 200)
    assert assert_item(json_body(response)) == user_item


@every_database
@pytest.mark.parametrize(
    "item_id", [str(UNKNOWN_ID), "0", "-1", str(MAX_ID), str(MAX_ID + 1), str(2**100)]
)
def test_get_unknown_item_is_404(client: httpx.Client, item_id: str) -> None:
    assert_error(client.get(f"{ITEMS}/{item_id}"), 404, ITEM_NOT_FOUND)


@every_database
@pytest.mark.parametrize("item_id", ["abc", "1.5", "1e3", "0x10", "%20", "1_0"])
def test_get_non_integer_item_id_is_422(client: httpx.Client, item_id: str) -> None:
    assert_validation_error(client.get(f"{ITEMS}/{item_id}"), "path", "item_id")


# --- PATCH /api/v1/items/{item_id} --------------------------------------------------------


@every_database
def test_patch_by_owner(server: Server, user_item: dict[str, Any]) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    response = server.client().patch(
        url, json={"name": "renamed"}, headers=server.auth(server.user)
    )
    assert_status(response, 200)
    patched = assert_item(json_body(response))
    unchanged = {k: v for k, v in user_item.items() if k not in ("name", "updated_at")}
    assert {k: v for k, v in patched.items() if k not in ("name", "updated_at")} == unchanged
    assert patched["name"] == "renamed"
    assert datetime.fromisoformat(patched["updated_at"]) >= datetime.fromisoformat(
        user_item["updated_at"]
    )
    assert server.client().get(url).json() == patched


@every_database
def test_patch_every_field_and_null_description(server: Server, user_item: dict[str, Any]) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    headers = server.auth(server.user)
    client = server.client()
    response = client.patch(
        url, json={"name": "all", "description": "new", "price": 0.5}, headers=headers
    )
    assert_status(response, 200)
    assert {k: response.json()[k] for k in ("name", "description", "price")} == {
        "name": "all",
        "description": "new",
        "price": 0.5,
    }
    cleared = client.patch(url, json={"description": None}, headers=headers)
    assert_status(cleared, 200)
    assert cleared.json()["description"] is None
    assert cleared.json()["name"] == "all"
    empty = client.patch(url, json={}, headers=headers)
    assert_status(empty, 200)
    assert {k: v for k, v in empty.json().items() if k != "updated_at"} == {
        k: v for k, v in cleared.json().items() if k != "updated_at"
    }


@every_database
def test_patch_by_superuser(server: Server, user_item: dict[str, Any]) -> None:
    response = server.client().patch(
        f"{ITEMS}/{user_item['id']}", json={"price": 1.5}, headers=server.auth(server.superuser)
    )
    assert_status(response, 200)
    assert assert_item(json_body(response))["price"] == 1.5
    # The owner stays the owner.
    assert response.json()["owner_id"] == user_item["owner_id"]


@every_database
def test_patch_by_stranger_is_403(server: Server, user_item: dict[str, Any]) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    response = server.client().patch(
        url, json={"name": "mine now"}, headers=server.auth(server.stranger)
    )
    assert_error(response, 403, FORBIDDEN)
    assert server.client().get(url).json() == user_item


@every_database
def test_patch_unknown_item_is_404(server: Server) -> None:
    for item_id in (UNKNOWN_ID, 0, MAX_ID + 1):
        response = server.client().patch(
            f"{ITEMS}/{item_id}", json={"name": "x"}, headers=server.auth(server.user)
        )
        assert_error(response, 404, ITEM_NOT_FOUND)


@every_database
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": None}, "name"),
        ({"price": None}, "price"),
        ({"name": ""}, "name"),
        ({"price": -1}, "price"),
        ({"price": True}, "price"),
        ({"description": "d" * 1001}, "description"),
        ({"owner_id": 1}, "owner_id"),
        ({"id": 5}, "id"),
    ],
    ids=[
        "null-name",
        "null-price",
        "empty-name",
        "negative-price",
        "bool-price",
        "long-description",
        "owner_id",
        "id",
    ],
)
def test_patch_invalid_is_422(
    server: Server, user_item: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    response = server.client().patch(url, json=payload, headers=server.auth(server.user))
    assert_validation_error(response, "body", field)
    assert server.client().get(url).json() == user_item


@every_database
def test_patch_non_integer_id_is_422(server: Server) -> None:
    response = server.client().patch(
        f"{ITEMS}/abc", json={"name": "x"}, headers=server.auth(server.user)
    )
    assert_validation_error(response, "path", "item_id")


# --- DELETE /api/v1/items/{item_id} -------------------------------------------------------


@every_database
def test_delete_by_owner(server: Server, user_item: dict[str, Any]) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    client = server.client()
    response = client.delete(url, headers=server.auth(server.user))
    assert_status(response, 204)
    assert response.content == b""
    assert_error(client.get(url), 404, ITEM_NOT_FOUND)
    assert_error(client.delete(url, headers=server.auth(server.user)), 404, ITEM_NOT_FOUND)


@every_database
def test_delete_by_superuser(server: Server, user_item: dict[str, Any]) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    response = server.client().delete(url, headers=server.auth(server.superuser))
    assert_status(response, 204)
    assert response.content == b""
    assert_error(server.client().get(url), 404, ITEM_NOT_FOUND)


@every_database
def test_delete_by_stranger_is_403(server: Server, user_item: dict[str, Any]) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    response = server.client().delete(url, headers=server.auth(server.stranger))
    assert_error(response, 403, FORBIDDEN)
    assert server.client().get(url).json() == user_item


@every_database
def test_delete_without_token_keeps_the_item(server: Server, user_item: dict[str, Any]) -> None:
    url = f"{ITEMS}/{user_item['id']}"
    assert_unauthorized(server.client().delete(url), NOT_AUTHENTICATED)
    assert_status(server.client().get(url), 200)


@every_database
def test_delete_non_integer_id_is_422(server: Server) -> None:
    response = server.client().delete(f"{ITEMS}/abc", headers=server.auth(server.user))
    assert_validation_error(response, "path", "item_id")


# --- inputs the database would choke on (Hardening) ----------------------------------------

# Ids no row has, within the id column's range (32 bits) or beyond it, where PostgreSQL
# (integer, 64-bit parameters) would refuse them.
OUT_OF_RANGE_IDS = [str(2**31), str(2**63 - 1), str(2**63), str(-(2**63)), str(-(2**63) - 1)]


@every_database
@pytest.mark.parametrize("item_id", OUT_OF_RANGE_IDS)
def test_out_of_range_ids_are_404_for_every_method(server: Server, item_id: str) -> None:
    url = f"{ITEMS}/{item_id}"
    client = server.client()
    auth = server.auth(server.user)
    assert_error(client.get(url), 404, ITEM_NOT_FOUND)
    assert_error(client.patch(url, json={"name": "x"}, headers=auth), 404, ITEM_NOT_FOUND)
    assert_error(client.delete(url, headers=auth), 404, ITEM_NOT_FOUND)


@every_database
@pytest.mark.parametrize("field", ["name", "description"])
def test_nul_character_in_item_text_is_422(
    server: Server, user_item: dict[str, Any], field: str
) -> None:
    client = server.client()
    auth = server.auth(server.user)
    url = f"{ITEMS}/{user_item['id']}"
    created = client.post(ITEMS, json={"name": "w", "price": 1, field: "wid\x00get"}, headers=auth)
    patched = client.patch(url, json={field: "\x00"}, headers=auth)
    assert_validation_error(created, "body", field)
    assert_validation_error(patched, "body", field)
    assert client.get(url).json() == user_item


@every_database
def test_nul_character_in_the_login_username_is_422(server: Server) -> None:
    response = server.login(f"\x00{server.user.email}", server.user.password)
    assert_validation_error(response, "body", "username")


@every_database
@pytest.mark.parametrize("query", ["limit=%00", "offset=1%00", "limit=5&offset=%00", "q=%00"])
def test_nul_character_in_a_query_parameter_is_never_a_5xx(
    client: httpx.Client, query: str
) -> None:
    response = client.get(f"{ITEMS}?{query}")
    assert_never_server_error(response)
    assert response.status_code in (200, 422), describe(response)


@every_database
def test_nul_character_in_the_admin_login_is_refused(server: Server) -> None:
    intruder = Credentials(f"\x00{server.superuser.email}", server.superuser.password)
    client, login = admin_login(server, intruder)
    assert login.status_code < 500, describe(login)
    admin = client.get("/admin/")
    assert admin.status_code != 200, f"logged in with a NUL e-mail: {describe(admin)}"


# --- malformed input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        ('{"name": "x", "price": ', "application/json"),
        ("not json at all", "application/json"),
        ('{"name": "x", "price": 1}', "text/plain"),
        ("name=x&price=1", "application/x-www-form-urlencoded"),
        ('{"name": "x", "price": 1}', "application/xml"),
        ("", "application/json"),
        (b"\xff\xfe\x00garbage", "application/json"),
        (b'{"name": "caf\xe9", "price": 1}', "application/json"),
        ("[" * 100_000, "application/json"),
    ],
    ids=[
        "truncated-json",
        "not-json",
        "text-plain",
        "form",
        "xml",
        "empty",
        "binary",
        "latin-1",
        "deeply-nested",
    ],
)
def test_malformed_body_is_422(server: Server, content: str | bytes, content_type: str) -> None:
    headers = {**server.auth(server.user), "Content-Type": content_type}
    response = server.client().post(ITEMS, content=content, headers=headers)
    assert_validation_error(response, "body")


def test_missing_token_with_a_bad_body_is_refused_either_way(client: httpx.Client) -> None:
    """Without a token a well-formed invalid body is a 401; a malformed one a 401 or a 422.

    The contract does not rank the two errors: FastAPI parses the JSON before it runs any
    dependency (authentication included), Flask authenticates first. Neither creates anything.
    """
    headers = {"Content-Type": "application/json"}
    assert_unauthorized(client.post(ITEMS, json={"name": ""}), NOT_AUTHENTICATED)
    response = client.post(ITEMS, content='{"name": ', headers=headers)
    assert response.status_code in (401, 422), response.text
    assert "detail" in response.json()


def test_missing_content_type_is_422(server: Server) -> None:
    client = server.client()
    request = client.build_request(
        "POST", ITEMS, content=b'{"name": "x", "price": 1}', headers=server.auth(server.user)
    )
    assert "content-type" not in request.headers
    response = client.send(request)
    assert_validation_error(response, "body")


def _big_body() -> bytes:
    padding = "x" * (MAX_BODY + 1024)
    return json.dumps({"name": "big", "price": 1, "description": padding}).encode()


def test_body_over_1_mib_is_413(server: Server) -> None:
    headers = {**server.auth(server.user), "Content-Type": "application/json"}
    response = server.client().post(ITEMS, content=_big_body(), headers=headers)
    assert_error(response, 413, "Request body too large")


def _chunks(body: bytes) -> Iterator[bytes]:
    """A body httpx sends with Transfer-Encoding: chunked (no Content-Length)."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


def test_chunked_body_is_accepted(server: Server) -> None:
    headers = {**server.auth(server.user), "Content-Type": "application/json"}
    body = json.dumps({"name": "chunked", "price": 2}).encode()
    response = server.client().post(ITEMS, content=_chunks(body), headers=headers)
    assert "content-length" not in response.request.headers
    assert_status(response, 201)
    assert assert_item(response.json())["name"] == "chunked"


def test_chunked_body_over_1_mib_is_413(server: Server) -> None:
    """No Content-Length: the limit must hold for a streamed body too."""
    headers = {**server.auth(server.user), "Content-Type": "application/json"}
    response = server.client().post(ITEMS, content=_chunks(_big_body()), headers=headers)
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "Request body too large")


def test_login_form_over_1_mib_is_413(server: Server) -> None:
    client = server.client(fresh_address=True)
    response = client.post(TOKEN_URL, data={"username": "x" * (MAX_BODY + 10), "password": "x"})
    assert_error(response, 413, "Request body too large")


HOSTILE: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", f"{ITEMS}?limit=1e10", {}),
    ("GET", f"{ITEMS}?limit=1&limit=2", {}),
    ("GET", f"{ITEMS}?offset=%00", {}),
    ("GET", f"{ITEMS}/%00", {}),
    ("GET", f"{ITEMS}/{'9' * 400}", {}),
    ("GET", f"{ITEMS}/%F0%9F%92%A9", {}),
    ("POST", ITEMS, {"json": {"name": {"nested": [1, 2]}, "price": [1]}}),
    ("POST", ITEMS, {"json": {"name": "x", "price": 10**400}}),
    ("POST", ITEMS, {"json": {"name": "\u0000\ud7ff", "price": 1}}),
    ("POST", ITEMS, {"content": "[" * 100000, "headers": {"Content-Type": "application/json"}}),
    ("PATCH", f"{ITEMS}/1", {"content": "null", "headers": {"Content-Type": "application/json"}}),
    ("PATCH", f"{ITEMS}/1", {"json": [1, 2, 3]}),
    ("POST", TOKEN_URL, {"data": {"username": "\x00", "password": "\x00"}}),
    (
        "POST",
        TOKEN_URL,
        {
            "content": b"\xff\xfe=\xff",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
    ),
    (
        "POST",
        TOKEN_URL,
        {"content": "--x\r\n", "headers": {"Content-Type": "multipart/form-data; boundary=x"}},
    ),
]


@every_database
@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    HOSTILE,
    ids=[f"{m} {p[:40]} {i}" for i, (m, p, _) in enumerate(HOSTILE)],
)
def test_hostile_input_never_5xx(
    server: Server, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    kwargs = dict(kwargs)  # the parameter is shared by both frameworks' runs
    headers = {**server.auth(server.user), **kwargs.pop("headers", {})}
    response = server.client(fresh_address=True).request(method, path, headers=headers, **kwargs)
    assert_never_server_error(response)


# --- OpenAPI and docs ---------------------------------------------------------------------

CONTRACT_OPERATIONS = {
    ("/health", "get"): False,
    ("/health/live", "get"): False,
    ("/health/ready", "get"): False,
    ("/api/v1/auth/token", "post"): False,
    ("/api/v1/users/me", "get"): True,
    ("/api/v1/users", "post"): False,
    ("/api/v1/users/me/password", "post"): True,
    ("/api/v1/auth/password-reset", "post"): False,
    ("/api/v1/auth/password-reset/confirm", "post"): False,
    ("/api/v1/items", "get"): False,
    ("/api/v1/items", "post"): True,
    ("/api/v1/items/{item_id}", "get"): False,
    ("/api/v1/items/{item_id}", "patch"): True,
    ("/api/v1/items/{item_id}", "delete"): True,
}


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local $refs (#/components/...)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        assert seen < 20, f"$ref loop at {ref}"
    return node


def success_schema(spec: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    response = resolve(spec, spec["paths"][path][method]["responses"][status])
    schema = resolve(spec, response["content"]["application/json"]["schema"])
    assert isinstance(schema, dict)
    return schema


@pytest.fixture
def openapi(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert_status(response, 200)
    spec = json_body(response)
    assert isinstance(spec, dict)
    return spec


def test_openapi_document(openapi: dict[str, Any]) -> None:
    assert str(openapi["openapi"]).startswith("3."), openapi["openapi"]
    assert openapi["info"]["title"]
    assert openapi["info"]["version"]
    for path, method in CONTRACT_OPERATIONS:
        assert method in openapi["paths"].get(path, {}), f"{method.upper()} {path} missing"
    schemas = openapi["components"]["schemas"]
    assert schemas
    item_id = [
        p
        for p in openapi["paths"]["/api/v1/items/{item_id}"]["get"].get("parameters", [])
        + openapi["paths"]["/api/v1/items/{item_id}"].get("parameters", [])
        if resolve(openapi, p)["name"] == "item_id"
    ]
    assert item_id, "the item_id path parameter is not described"
    limit_names = {
        resolve(openapi, p)["name"]
        for p in openapi["paths"]["/api/v1/items"]["get"].get("parameters", [])
    }
    assert {"limit", "offset"} <= limit_names


def test_openapi_shapes(openapi: dict[str, Any]) -> None:
    user = success_schema(openapi, "/api/v1/users/me", "get", "200")
    assert set(user["properties"]) == USER_KEYS
    item = success_schema(openapi, "/api/v1/items/{item_id}", "get", "200")
    assert set(item["properties"]) == ITEM_KEYS
    created = success_schema(openapi, "/api/v1/items", "post", "201")
    assert set(created["properties"]) == ITEM_KEYS
    page = success_schema(openapi, "/api/v1/items", "get", "200")
    assert set(page["properties"]) == PAGE_KEYS
    token = success_schema(openapi, "/api/v1/auth/token", "post", "200")
    assert {"access_token", "token_type"} <= set(token["properties"])
    body = openapi["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    form = resolve(openapi, body["application/x-www-form-urlencoded"]["schema"])
    assert {"username", "password"} <= set(form["properties"])
    create_body = openapi["paths"]["/api/v1/items"]["post"]["requestBody"]["content"]
    create_schema = resolve(openapi, create_body["application/json"]["schema"])
    assert set(create_schema["properties"]) == {"name", "description", "price"}
    assert {"name", "price"} <= set(create_schema.get("required", []))
    assert "204" in openapi["paths"]["/api/v1/items/{item_id}"]["delete"]["responses"]
    assert "password" not in json.dumps(user)
    assert set(success_schema(openapi, "/api/v1/users", "post", "201")["properties"]) == USER_KEYS
    for path, status, fields in ACCOUNT_BODIES:
        operation = openapi["paths"][path]["post"]
        assert status in operation["responses"], (path, set(operation["responses"]))
        content = operation["requestBody"]["content"]["application/json"]
        assert set(resolve(openapi, content["schema"])["properties"]) == fields, path


# The accounts' operations: their success status and the fields of their JSON body.
ACCOUNT_BODIES = [
    ("/api/v1/users", "201", {"email", "password"}),
    ("/api/v1/users/me/password", "204", {"current_password", "new_password"}),
    ("/api/v1/auth/password-reset", "202", {"email"}),
    ("/api/v1/auth/password-reset/confirm", "204", {"token", "new_password"}),
]


def test_openapi_security(openapi: dict[str, Any]) -> None:
    scheme = openapi["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    for (path, method), protected in CONTRACT_OPERATIONS.items():
        operation = openapi["paths"][path][method]
        requirements = operation.get("security", openapi.get("security", []))
        names = {name for requirement in requirements for name in requirement}
        if protected:
            assert "OAuth2PasswordBearer" in names, f"{method.upper()} {path} is not protected"
        else:
            assert "OAuth2PasswordBearer" not in names, f"{method.upper()} {path} claims auth"


class _AssetParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.assets.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.assets.append(values["href"] or "")
        if tag == "img" and values.get("src"):
            self.assets.append(values["src"] or "")


def test_docs_page_and_local_assets(server: Server, client: httpx.Client) -> None:
    response = client.get("/docs", follow_redirects=True)
    assert_status(response, 200)
    assert media_type(response) == "text/html", describe(response)
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text
    assert not re.search(r"https?://(?!127\.0\.0\.1)[^\s\"']*\.(js|css)", response.text), (
        "the docs page loads assets from elsewhere"
    )
    parser = _AssetParser()
    parser.feed(response.text)
    scripts = [a for a in parser.assets if a.split("?")[0].endswith(".js")]
    styles = [a for a in parser.assets if a.split("?")[0].endswith(".css")]
    assert scripts, "no JavaScript on the docs page"
    assert styles, "no stylesheet on the docs page"
    origin = urlsplit(server.base_url).netloc
    for asset in parser.assets:
        url = urljoin(str(response.url), asset)
        assert urlsplit(url).netloc == origin, f"{asset} is not served by the app"
        fetched = client.get(url)
        assert_status(fetched, 200)
        assert fetched.content, f"{asset} is empty"
    for script in scripts:
        fetched = client.get(urljoin(str(response.url), script))
        assert "javascript" in media_type(fetched), describe(fetched)
    for style in styles:
        fetched = client.get(urljoin(str(response.url), style))
        assert media_type(fetched) == "text/css", describe(fetched)


# --- admin --------------------------------------------------------------------------------


def admin_logout(client: httpx.Client, page: httpx.Response) -> httpx.Response:
    """Submit the logout form of an admin page (a POST with its hidden CSRF field)."""
    parser = FormParser()
    parser.feed(page.text)
    forms = [f for f in parser.forms if urlsplit(f["action"]).path.rstrip("/") == "/admin/logout"]
    assert forms, f"no logout form on the admin page: {describe(page)}"
    data = {i["name"]: i.get("value", "") for i in forms[0]["inputs"] if i.get("name")}
    assert any("csrf" in name.lower() for name in data), f"logout form without CSRF: {data}"
    return client.post(urljoin(str(page.url), forms[0]["action"]), data=data, follow_redirects=True)


def test_admin_anonymous_is_sent_to_login(client: httpx.Client) -> None:
    response = client.get("/admin/")
    if response.status_code in (301, 302, 303, 307, 308):
        target = urlsplit(urljoin(str(response.url), response.headers["location"]))
        assert target.path.startswith("/admin/login"), describe(response)
    else:
        assert response.status_code in (401, 403), describe(response)


def test_admin_normal_user_is_403(server: Server) -> None:
    client, login = admin_login(server, server.user)
    admin = client.get("/admin/")
    assert admin.status_code != 200, describe(admin)
    assert 403 in (login.status_code, admin.status_code), f"{describe(login)}\n{describe(admin)}"


def test_admin_superuser(server: Server) -> None:
    client, login = admin_login(server, server.superuser)
    assert login.status_code < 400, describe(login)
    admin = client.get("/admin/")
    assert_status(admin, 200)
    assert media_type(admin) == "text/html", describe(admin)
    assert "argon2" not in admin.text
    # A GET logs no one out (and is no server error).
    not_a_logout = client.get("/admin/logout", follow_redirects=False)
    assert not_a_logout.status_code < 500, describe(not_a_logout)
    assert_status(client.get("/admin/"), 200)
    # The page's logout button: a POST form with the CSRF token.
    old_cookies = dict(client.cookies)
    logout = admin_logout(client, admin)
    assert logout.status_code < 400, describe(logout)
    after = client.get("/admin/")
    assert after.status_code != 200, f"still logged in after /admin/logout: {describe(after)}"
    # The old cookie, replayed, no longer works: the session ended on the server.
    replay = server.client(behind_tls_proxy=True, cookies=old_cookies)
    replayed = replay.get("/admin/", follow_redirects=False)
    assert replayed.status_code != 200, f"old cookie works after logout: {describe(replayed)}"


def test_admin_login_without_csrf_token_fails(server: Server) -> None:
    client, _ = admin_login(server, server.superuser, with_csrf=False)
    admin = client.get("/admin/")
    assert admin.status_code != 200, f"logged in without a CSRF token: {describe(admin)}"


# --- security headers ---------------------------------------------------------------------

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
CSP_NONCE = re.compile(r"'nonce-([A-Za-z0-9_+/=-]+)'")


def csp_directives(response: httpx.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy's directives: {name: [sources]}."""
    header = response.headers.get("content-security-policy", "")
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name.lower(): sources for name, *sources in directives}


def assert_secured_page(response: httpx.Response) -> None:
    """Not framed; only the app's own files, and its inline scripts with the nonce, run."""
    assert response.headers.get("x-frame-options", "").upper() == "DENY", describe(response)
    directives = csp_directives(response)
    assert directives.get("frame-ancestors") == ["'none'"], directives
    assert directives.get("default-src") == ["'self'"], directives
    assert directives.get("object-src") == ["'none'"], directives
    script_src = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in script_src, script_src
    assert "'unsafe-eval'" not in script_src, script_src
    for name, sources in directives.items():
        for source in sources:
            assert source.startswith("'") or source == "data:", f"{name}: {source} is elsewhere"
    nonces = [match for source in script_src for match in CSP_NONCE.findall(source)]
    for tag in SCRIPT_TAG.findall(response.text):
        if "src=" not in tag:
            assert any(f'nonce="{nonce}"' in tag for nonce in nonces), (
                f"an inline script the policy refuses: {tag}"
            )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/health"),
        ("GET", ITEMS),
        ("GET", f"{ITEMS}/{UNKNOWN_ID}"),
        ("GET", f"{ITEMS}?limit=0"),
        ("GET", "/openapi.json"),
        ("GET", "/no-such-page"),
        ("POST", TOKEN_URL),
        ("DELETE", "/health"),
    ],
)
def test_every_response_has_nosniff_and_hsts(client: httpx.Client, method: str, path: str) -> None:
    """The servers run with ENVIRONMENT=production: Strict-Transport-Security too."""
    response = client.request(method, path)
    assert response.headers.get("x-content-type-options") == "nosniff", describe(response)
    hsts = response.headers.get("strict-transport-security", "")
    assert re.fullmatch(r"max-age=(\d+)(; ?includeSubDomains)?", hsts), describe(response)
    assert int(hsts.split(";")[0].split("=")[1]) >= 180 * 24 * 3600, hsts


def test_docs_page_is_not_framed_and_runs_only_its_own_scripts(client: httpx.Client) -> None:
    first = client.get("/docs", follow_redirects=True)
    assert_status(first, 200)
    assert_secured_page(first)
    second = client.get("/docs", follow_redirects=True)
    assert csp_directives(first)["script-src"] != csp_directives(second)["script-src"], (
        "the same nonce twice"
    )


def test_token_response_is_not_stored(server: Server) -> None:
    response = server.login(server.user.email, server.user.password)
    assert_status(response, 200)
    assert response.headers.get("cache-control") == "no-store", describe(response)


def test_admin_pages_are_not_framed_nor_stored(server: Server, client: httpx.Client) -> None:
    login_page = client.get("/admin/login", follow_redirects=True)
    assert_status(login_page, 200)
    assert_secured_page(login_page)
    assert login_page.headers.get("cache-control") == "no-store", describe(login_page)
    admin, login = admin_login(server, server.superuser)
    assert login.status_code < 400, describe(login)
    page = admin.get("/admin/")
    assert_status(page, 200)
    assert_secured_page(page)
    assert page.headers.get("cache-control") == "no-store", describe(page)
    assert SCRIPT_TAG.search(page.text), "the admin page has no script to check"


# --- logs -----------------------------------------------------------------------------------

QUERY_STRING = re.compile(r"/[\w/.%-]*\?[\w%.-]+=")


def test_server_logs_hold_no_query_string_token_or_password(server: Server) -> None:
    """Whatever the URL or the form, the server's output (its own lines, the app's) keeps
    no query string, token or password."""
    marker = f"logmarker{secrets.token_hex(4)}"
    token = server.token(server.user)
    client = server.client(fresh_address=True)
    client.get(f"{ITEMS}?limit=1&token={marker}")
    client.get(f"/docs?api_key={marker}")
    client.get(f"{ME}?access_token={token}", headers={"Authorization": f"Bearer {token}"})
    client.post(TOKEN_URL, data={"username": server.user.email, "password": marker})
    ws_url = server.base_url.replace("http://", "ws://") + f"/api/v1/ws/items?token={token}"
    with contextlib.suppress(Exception), ws_connect(ws_url, open_timeout=10) as websocket:
        websocket.close()
    deadline = time.monotonic() + 10
    while "/docs" not in server.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    output = server.output()
    assert "/docs" in output, "the server logged no request line at all"
    assert marker not in output
    assert token not in output
    assert not QUERY_STRING.search(output), QUERY_STRING.search(output)


# --- rate limit (last: it has a server of its own) -----------------------------------------


def test_login_rate_limit(fresh_server: Server) -> None:
    """AUTH_RATE_LIMIT (5/minute) attempts per client address; every attempt counts."""
    client = fresh_server.client(fresh_address=True)
    user = fresh_server.user
    attempts = [
        (user.email, user.password),
        (user.email, "wrong"),
        ("nobody-here@example.com", "wrong"),
        (user.email, user.password),
        (user.email, "wrong"),
    ]
    for n, (email, password) in enumerate(attempts, start=1):
        response = client.post(TOKEN_URL, data={"username": email, "password": password})
        assert response.status_code in (200, 401), f"attempt {n}: {describe(response)}"
    blocked = client.post(TOKEN_URL, data={"username": user.email, "password": user.password})
    assert_error(blocked, 429, TOO_MANY_LOGINS)
    retry_after = blocked.headers.get("retry-after", "")
    assert retry_after.isdigit(), describe(blocked)
    assert 1 <= int(retry_after) <= 60, retry_after
    # Still blocked, whatever is sent.
    assert_error(
        client.post(TOKEN_URL, data={"username": "x", "password": "y"}), 429, TOO_MANY_LOGINS
    )
    # Another client address has its own budget.
    other = fresh_server.login(user.email, user.password)
    assert_status(other, 200)


def test_failed_logins_count_per_account_and_the_admin_login_shares_the_limit(
    fresh_server: Server,
) -> None:
    """AUTH_RATE_LIMIT failed attempts on one account, each from an address of its own (and a
    spoofed X-Forwarded-For, which changes nothing): then even the right password is refused,
    on the token endpoint and on the admin login. Every failure is logged with the account and
    the client address, never the password."""
    who = fresh_server.stranger
    for n in range(RATE_LIMIT_ATTEMPTS):
        with fresh_server.client(fresh_address=True) as client:
            spoofed = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            form = {"username": who.email, "password": "wrong-password-1234"}
            response = client.post(TOKEN_URL, data=form, headers=spoofed)
            assert_error(response, 401, BAD_LOGIN)

    assert_error(fresh_server.login(who.email, who.password), 429, TOO_MANY_LOGINS)
    _, admin = admin_login(fresh_server, who)
    assert admin.status_code == 429, describe(admin)
    # Another account is not affected.
    assert_status(fresh_server.login(fresh_server.user.email, fresh_server.user.password), 200)

    failures = [
        json.loads(line)
        for line in fresh_server.output().splitlines()
        if '"login_failed"' in line and who.email in line
    ]
    clients = {event.get("client") for event in failures}
    assert len(failures) >= RATE_LIMIT_ATTEMPTS + 2, failures
    assert {event.get("via") for event in failures} == {"token", "admin"}, failures
    assert all(c and c.startswith("127.") for c in clients), clients  # not the spoofed ones
    assert "wrong-password-1234" not in fresh_server.output()
