"""The admin's HTTP contract (/admin), the same in both flavors.

Only `client` and `make_user` are used, and redirects are never followed, so that the
status codes and Location headers of the contract are what is checked.
"""

import html
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.common import DEFAULT_PASSWORD, ApiClient, MakeUser

LOGIN_URL = "/admin/login"
INPUT_TAG = re.compile(r"<input\b[^>]*>", re.IGNORECASE)


def attribute(tag: str, name: str) -> str | None:
    match = re.search(rf"""\b{name}\s*=\s*(?:"([^"]*)"|'([^']*)')""", tag, re.IGNORECASE)
    return None if match is None else html.unescape(match.group(1) or match.group(2) or "")


def inputs(page: str) -> dict[str, str]:
    """The form inputs of an HTML page: {name: tag}."""
    found = {}
    for tag in INPUT_TAG.findall(page):
        name = attribute(tag, "name")
        if name:
            found[name] = tag
    return found


def get(client: ApiClient, url: str) -> Any:
    return client.get(url, follow_redirects=False)


def csrf_token(client: ApiClient) -> str:
    page = get(client, LOGIN_URL)
    assert page.status_code == 200, page.text
    token = attribute(inputs(page.text)["csrf_token"], "value")
    assert token
    return token


def log_in(client: ApiClient, email: str, password: str = DEFAULT_PASSWORD) -> Any:
    form = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post(LOGIN_URL, data=form, follow_redirects=False)


def assert_redirects_to(response: Any, path: str) -> None:
    assert response.status_code in (302, 303), response.text
    assert urlsplit(response.headers["location"]).path == path


def assert_logged_out(client: ApiClient) -> None:
    assert_redirects_to(get(client, "/admin/"), LOGIN_URL)


def test_anonymous_visitors_are_sent_to_the_login_page(client: ApiClient) -> None:
    assert_redirects_to(get(client, "/admin/"), LOGIN_URL)


def test_login_page_has_email_password_and_csrf_fields(client: ApiClient) -> None:
    page = get(client, LOGIN_URL)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    fields = inputs(page.text)
    assert "email" in fields
    assert attribute(fields["password"], "type") == "password"
    assert attribute(fields["csrf_token"], "type") == "hidden"
    assert attribute(fields["csrf_token"], "value")


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "wrong"])
def test_login_without_a_valid_csrf_token_is_refused(
    client: ApiClient, make_user: MakeUser, token: str | None
) -> None:
    make_user("admin@example.com", is_superuser=True)
    csrf_token(client)  # the visitor has seen the form, and so has a CSRF cookie/session
    form = {"email": "admin@example.com", "password": DEFAULT_PASSWORD}
    if token is not None:
        form["csrf_token"] = token

    response = client.post(LOGIN_URL, data=form, follow_redirects=False)

    assert response.status_code in (400, 403)
    assert_logged_out(client)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("admin@example.com", "wrong password"),
        ("nobody@example.com", DEFAULT_PASSWORD),
        ("inactive@example.com", DEFAULT_PASSWORD),
    ],
    ids=["wrong-password", "unknown-user", "inactive-user"],
)
def test_wrong_credentials_show_the_form_again(
    client: ApiClient, make_user: MakeUser, email: str, password: str
) -> None:
    make_user("admin@example.com", is_superuser=True)
    make_user("inactive@example.com", is_superuser=True, is_active=False)

    response = log_in(client, email, password)

    assert response.status_code in (400, 401)
    assert response.headers["content-type"].startswith("text/html")
    assert {"email", "password", "csrf_token"} <= set(inputs(response.text))
    assert_logged_out(client)


def test_a_user_who_is_not_a_superuser_gets_403(client: ApiClient, make_user: MakeUser) -> None:
    make_user("user@example.com")

    assert_redirects_to(log_in(client, "user@example.com"), "/admin/")
    assert get(client, "/admin/").status_code == 403


def test_a_superuser_logs_in_with_a_safe_session_cookie(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("admin@example.com", is_superuser=True)

    response = log_in(client, "admin@example.com")

    assert_redirects_to(response, "/admin/")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    page = get(client, "/admin/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


def test_logout_ends_the_session(client: ApiClient, make_user: MakeUser) -> None:
    make_user("admin@example.com", is_superuser=True)
    log_in(client, "admin@example.com")
    assert get(client, "/admin/").status_code == 200

    assert_redirects_to(get(client, "/admin/logout"), LOGIN_URL)
    assert_logged_out(client)
