"""The admin's HTTP contract (/admin), the same in both flavors.

Only `client` and `make_user` are used, and redirects are never followed, so that the
status codes and Location headers of the contract are what is checked.
"""

import html
import logging
import re
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from example import admin_sessions
from example.models import AdminSession
from example.ratelimit import LoginRateLimiter
from tests.common import (
    DATABASE_ERRORS,
    DEFAULT_PASSWORD,
    ApiClient,
    LogInAdmin,
    MakeUser,
    auth_events,
)

LOGIN_URL = "/admin/login"
LOGOUT_URL = "/admin/logout"
ITEM_FORM_URL = "/admin/item/create"  # the form for a new item
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
        ("admin\x00@example.com", DEFAULT_PASSWORD),
    ],
    ids=["wrong-password", "unknown-user", "inactive-user", "nul-character"],
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


def log_out(client: ApiClient) -> Any:
    """Press the logout button of the admin's page: a POST form with the CSRF token."""
    page = get(client, "/admin/")
    assert page.status_code == 200, page.text
    token = attribute(inputs(page.text)["csrf_token"], "value")
    return client.post(LOGOUT_URL, data={"csrf_token": token}, follow_redirects=False)


def cookie_header(response: Any) -> dict[str, str]:
    """The cookies `response` sets, as a Cookie header: to replay them later."""
    headers = response.headers
    values = headers.get_list("set-cookie") if hasattr(headers, "get_list") else None
    values = values if values is not None else headers.getlist("Set-Cookie")
    return {"Cookie": "; ".join(value.split(";", 1)[0] for value in values)}


def test_logout_ends_the_session(client: ApiClient, make_user: MakeUser) -> None:
    make_user("admin@example.com", is_superuser=True)
    log_in(client, "admin@example.com")
    assert get(client, "/admin/").status_code == 200

    assert_redirects_to(log_out(client), LOGIN_URL)
    assert_logged_out(client)


def test_a_user_who_is_not_a_superuser_logs_out_from_the_403_page(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("user@example.com")
    log_in(client, "user@example.com")
    refused = get(client, "/admin/")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    token = attribute(inputs(refused.text)["csrf_token"], "value")

    response = client.post(LOGOUT_URL, data={"csrf_token": token}, follow_redirects=False)

    assert_redirects_to(response, LOGIN_URL)
    assert_logged_out(client)


def test_the_old_cookie_replayed_after_logout_no_longer_works(
    client: ApiClient, other_client: ApiClient, make_user: MakeUser
) -> None:
    make_user("admin@example.com", is_superuser=True)
    old_cookie = cookie_header(log_in(client, "admin@example.com"))
    before = other_client.get("/admin/", headers=old_cookie, follow_redirects=False)
    assert before.status_code == 200

    log_out(client)

    replayed = other_client.get("/admin/", headers=old_cookie, follow_redirects=False)
    assert_redirects_to(replayed, LOGIN_URL)


@pytest.mark.parametrize("form", [{}, {"csrf_token": "forged-token"}], ids=["missing", "wrong"])
def test_logout_without_the_csrf_token_logs_no_one_out(
    client: ApiClient, make_user: MakeUser, form: dict[str, str]
) -> None:
    make_user("admin@example.com", is_superuser=True)
    log_in(client, "admin@example.com")

    response = client.post(LOGOUT_URL, data=form, follow_redirects=False)

    assert response.status_code in (400, 403)
    assert get(client, "/admin/").status_code == 200


def test_a_get_does_not_log_out(client: ApiClient, make_user: MakeUser) -> None:
    make_user("admin@example.com", is_superuser=True)
    log_in(client, "admin@example.com")

    response = get(client, LOGOUT_URL)

    assert response.status_code == 405
    assert get(client, "/admin/").status_code == 200


def test_an_admin_session_ends_12_hours_after_the_login_however_active(
    client: ApiClient,
    make_user: MakeUser,
    log_in_admin: LogInAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user_id = make_user("admin@example.com", is_superuser=True)
    login_time = admin_sessions.now()
    log_in_admin(user_id)

    def at(elapsed: timedelta) -> None:
        monkeypatch.setattr(admin_sessions, "now", lambda: login_time + elapsed)

    for hours in (1, 6, 11):  # an active session: a request every few hours
        at(timedelta(hours=hours))
        assert get(client, "/admin/").status_code == 200
    at(timedelta(hours=12, seconds=1))
    assert_logged_out(client)
    assert timedelta(hours=12) >= admin_sessions.LIFETIME


@pytest.mark.parametrize("settings_overrides", [{"auth_rate_limit": "3/minute"}])
def test_after_the_limit_even_the_right_password_is_refused(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("admin@example.com", is_superuser=True)
    wrong = [log_in(client, "admin@example.com", "wrong password") for _ in range(3)]

    refused = log_in(client, "admin@example.com")

    assert {response.status_code for response in wrong} <= {400, 401}
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert {"email", "password", "csrf_token"} <= set(inputs(refused.text))
    assert_logged_out(client)


@pytest.mark.parametrize("settings_overrides", [{"auth_rate_limit": "3/minute"}])
def test_the_admin_login_counts_against_the_token_endpoints_limit(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("admin@example.com", is_superuser=True)
    for _ in range(3):
        form = {"username": "nobody@example.com", "password": "wrong password"}
        assert client.post("/api/v1/auth/token", data=form).status_code == 401

    assert log_in(client, "admin@example.com").status_code == 429
    assert_logged_out(client)


@pytest.mark.parametrize(
    "settings_overrides", [{"auth_rate_limit": "3/minute", "trusted_proxies": "127.0.0.1"}]
)
def test_the_admin_login_counts_failures_per_account_from_any_address(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("admin@example.com", is_superuser=True)
    for n in range(3):
        form = {"username": "admin@example.com", "password": "wrong password"}
        headers = {"X-Forwarded-For": f"10.0.0.{n}"}
        assert client.post("/api/v1/auth/token", data=form, headers=headers).status_code == 401
    form = {"email": "admin@example.com", "password": DEFAULT_PASSWORD}
    form["csrf_token"] = csrf_token(client)

    response = client.post(
        LOGIN_URL, data=form, headers={"X-Forwarded-For": "10.0.0.9"}, follow_redirects=False
    )

    assert response.status_code == 429
    assert_logged_out(client)


def test_the_admin_login_is_a_503_when_the_limit_cannot_be_counted(
    client: ApiClient, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("admin@example.com", is_superuser=True)

    def no_answer(*_args: object, **_kwargs: object) -> NoReturn:
        raise ConnectionError("the login rate limit's Redis does not answer")

    monkeypatch.setattr(LoginRateLimiter, "admit", no_answer)

    assert log_in(client, "admin@example.com").status_code == 503
    assert_logged_out(client)


@DATABASE_ERRORS
def test_the_admin_is_a_503_while_the_database_cannot_be_reached(
    client: ApiClient,
    make_user: MakeUser,
    log_in_admin: LogInAdmin,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    status: int,
) -> None:
    log_in_admin(make_user("admin@example.com", is_superuser=True))
    page = get(client, "/admin/")
    assert page.status_code == 200, page.text
    token = attribute(inputs(page.text)["csrf_token"], "value")
    login = {"email": "admin@example.com", "password": DEFAULT_PASSWORD, "csrf_token": token}

    def unreachable(*_args: object, **_kwargs: object) -> NoReturn:
        raise error

    with monkeypatch.context() as patch:
        # Every connection the app asks its pool for: the session lookup of each admin page
        # first of all.
        patch.setattr(Pool, "connect", unreachable)
        answers = {
            "GET /admin/": get(client, "/admin/"),
            "POST /admin/login": client.post(LOGIN_URL, data=login, follow_redirects=False),
            "POST /admin/logout": client.post(
                LOGOUT_URL, data={"csrf_token": token}, follow_redirects=False
            ),
        }

    for request, response in answers.items():
        assert response.status_code == status, f"{request}: {response.text}"
        assert "Traceback" not in response.text
    # A bug's traceback is logged once per request; an outage is no bug: no traceback.
    tracebacks = [record for record in caplog.records if with_traceback(record)]
    assert len(tracebacks) == (len(answers) if status == 500 else 0), tracebacks
    assert get(client, "/admin/").status_code == 200  # the same session, once it is back


def with_traceback(record: logging.LogRecord) -> bool:
    """Whether a log record holds an exception (a structlog record, in its event dict)."""
    event = record.msg if isinstance(record.msg, dict) else {}
    return bool(record.exc_info or event.get("exc_info"))


def test_a_form_saved_as_the_database_stops_answering_is_a_503(
    client: ApiClient,
    make_user: MakeUser,
    log_in_admin: LogInAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner_id = make_user("admin@example.com", is_superuser=True)
    form = {"name": "Widget", "description": "", "price": "2.5", "owner": str(owner_id)}
    form["csrf_token"] = log_in_admin(owner_id).csrf_token

    def unreachable(*_args: object, **_kwargs: object) -> NoReturn:
        raise OperationalError("COMMIT", None, Exception("server closed the connection"))

    with monkeypatch.context() as patch:
        patch.setattr(Session, "commit", unreachable)
        response = client.post(ITEM_FORM_URL, data=form, follow_redirects=False)

    assert response.status_code == 503, response.text
    assert "Service unavailable" in response.text


def test_admin_logins_are_logged_with_the_account_and_the_client_address(
    client: ApiClient, make_user: MakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    make_user("admin@example.com", is_superuser=True)

    with caplog.at_level(logging.INFO):
        log_in(client, "admin@example.com", "wrong password")
        log_in(client, "admin@example.com")

    events = auth_events(caplog)
    assert [(event["event"], event["account"], event["via"]) for event in events] == [
        ("login_failed", "admin@example.com", "admin"),
        ("login_succeeded", "admin@example.com", "admin"),
    ]
    assert {event["client"] for event in events} == {"127.0.0.1"}
    assert "wrong password" not in " ".join(str(record.msg) for record in caplog.records)


@pytest.mark.parametrize("minted", [False, True], ids=["login-form", "log_in_admin"])
def test_the_tests_admin_session_is_one_the_login_form_would_start(
    client: ApiClient, make_user: MakeUser, log_in_admin: LogInAdmin, minted: bool
) -> None:
    """The other admin tests log in with `log_in_admin` (conftest.py), not the form: what it
    starts is taken as the form's session is, and its CSRF token as the forms' own."""
    owner_id = make_user("admin@example.com", is_superuser=True)
    if minted:
        token = log_in_admin(owner_id).csrf_token
    else:
        assert_redirects_to(log_in(client, "admin@example.com"), "/admin/")
        page = get(client, ITEM_FORM_URL)
        assert page.status_code == 200, page.text
        token = attribute(inputs(page.text)["csrf_token"], "value") or ""
    assert get(client, "/admin/").status_code == 200
    form = {"name": "Widget", "description": "", "price": "2.5", "owner": str(owner_id)}

    created = client.post(ITEM_FORM_URL, data={**form, "csrf_token": token}, follow_redirects=False)

    assert created.status_code in (302, 303), created.text  # saved: the token was the session's
    assert_redirects_to(log_out(client), LOGIN_URL)
    assert_logged_out(client)


def test_a_tampered_or_ended_test_session_is_refused(
    other_client: ApiClient, make_user: MakeUser, log_in_admin: LogInAdmin, engine: Engine
) -> None:
    cookie = log_in_admin(make_user("admin@example.com", is_superuser=True)).cookie["Cookie"]
    name, value = cookie.split("=", 1)
    changed = "A" if value[5] != "A" else "B"
    tampered = {"Cookie": f"{name}={value[:5]}{changed}{value[6:]}"}

    assert get_with(other_client, "/admin/", {"Cookie": cookie}).status_code == 200
    assert_redirects_to(get_with(other_client, "/admin/", tampered), LOGIN_URL)
    with engine.begin() as connection:  # the session ends on the server
        connection.execute(delete(AdminSession))
    assert_redirects_to(get_with(other_client, "/admin/", {"Cookie": cookie}), LOGIN_URL)


def get_with(client: ApiClient, url: str, headers: dict[str, str]) -> Any:
    return client.get(url, headers=headers, follow_redirects=False)
