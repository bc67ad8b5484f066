"""What several contract test modules share: response checks, items, the admin login."""

from __future__ import annotations

from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import httpx

from tests.contract.conftest import Credentials, Server

ITEMS = "/api/v1/items"
ITEM_KEYS = {"id", "name", "description", "price", "owner_id", "created_at", "updated_at"}


def describe(response: httpx.Response) -> str:
    """The request and what came back, for assertion messages."""
    request = response.request
    return (
        f"{request.method} {request.url} -> {response.status_code} "
        f"{response.headers.get('content-type')!r} {response.text[:600]!r}"
    )


def media_type(response: httpx.Response) -> str:
    value: str = response.headers.get("content-type", "")
    return value.split(";")[0].strip().lower()


def json_body(response: httpx.Response) -> Any:
    assert media_type(response) == "application/json", describe(response)
    return response.json()


def assert_status(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, describe(response)


def assert_timestamp(value: object) -> datetime:
    assert isinstance(value, str), value
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0), value
    assert value.endswith("+00:00"), value
    return parsed


def assert_item(body: object) -> dict[str, Any]:
    """An Item response: exactly the seven fields, with their types."""
    assert isinstance(body, dict), body
    assert set(body) == ITEM_KEYS, body
    assert isinstance(body["id"], int), body
    assert not isinstance(body["id"], bool), body
    assert isinstance(body["name"], str), body
    assert body["description"] is None or isinstance(body["description"], str), body
    assert isinstance(body["price"], int | float), body
    assert not isinstance(body["price"], bool), body
    assert isinstance(body["owner_id"], int), body
    created = assert_timestamp(body["created_at"])
    updated = assert_timestamp(body["updated_at"])
    assert updated >= created, body
    return body


def create_item(server: Server, who: Credentials, **fields: Any) -> dict[str, Any]:
    payload = {"name": "widget", "price": 9.5, **fields}
    response = server.client().post(ITEMS, json=payload, headers=server.auth(who))
    assert_status(response, 201)
    return assert_item(response.json())


class FormParser(HTMLParser):
    """The first <form> with a password field: its action and inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._current: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {"action": values.get("action", ""), "inputs": []}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            self._current["inputs"].append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def admin_login(
    server: Server, who: Credentials, *, with_csrf: bool = True
) -> tuple[httpx.Client, httpx.Response]:
    """Log in through the admin login form with a cookie-keeping client."""
    client = server.client(behind_tls_proxy=True)
    page = client.get("/admin/login", follow_redirects=True)
    assert_status(page, 200)
    parser = FormParser()
    parser.feed(page.text)
    forms = [f for f in parser.forms if any(i.get("type") == "password" for i in f["inputs"])]
    assert forms, f"no login form: {describe(page)}"
    form = forms[0]
    data: dict[str, str] = {}
    hidden = [i for i in form["inputs"] if i.get("type") == "hidden" and i.get("name")]
    csrf = [i for i in hidden if "csrf" in i["name"].lower()]
    assert csrf, f"the login form has no CSRF token: {describe(page)}"
    for field in hidden:
        if with_csrf or field not in csrf:
            data[field["name"]] = field.get("value", "")
    password_fields = [i["name"] for i in form["inputs"] if i.get("type") == "password"]
    login_fields = [
        i["name"]
        for i in form["inputs"]
        if i.get("type", "text") in ("email", "text") and i.get("name")
    ]
    assert login_fields, f"no e-mail field on the login form: {describe(page)}"
    data[login_fields[0]] = who.email
    data[password_fields[0]] = who.password
    action = urljoin(str(page.url), form["action"] or str(page.url))
    response = client.post(action, data=data, follow_redirects=True)
    return client, response
