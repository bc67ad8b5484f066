"""The accounts rows of the API contract, over real HTTP, against both frameworks: signup,
password change, password reset by e-mail.

The servers send their e-mail to a real SMTP server in this process (conftest.mailbox); the
reset test reads the e-mail as it was received and confirms the token it holds.
"""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.contract.conftest import RATE_LIMIT_ATTEMPTS, RESET_LINK, Mailbox, Server
from tests.contract.helpers import assert_status, describe, json_body

pytestmark = pytest.mark.contract

SIGNUP = "/api/v1/users"
CHANGE = "/api/v1/users/me/password"
RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
ME = "/api/v1/users/me"
PASSWORD = "Contract-pass-0001"  # noqa: S105 (a test password)
NEW_PASSWORD = "Contract-pass-0002"  # noqa: S105 (a test password)
RESET_ANSWER = {"detail": "If the account exists, an email is on its way"}
LINK = re.compile(re.escape(RESET_LINK.replace("{token}", "")) + r"([A-Za-z0-9_-]+)")


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:12]}@example.com"


def assert_error(response: httpx.Response, status: int, detail: str) -> None:
    assert_status(response, status)
    assert json_body(response) == {"detail": detail}, describe(response)


def assert_422_at(response: httpx.Response, field: str) -> None:
    assert_status(response, 422)
    locations = [error["loc"] for error in json_body(response)["detail"]]
    assert ["body", field] in locations, describe(response)


def sign_up(server: Server, email: str, password: str = PASSWORD) -> httpx.Response:
    with server.client(fresh_address=True) as client:
        return client.post(SIGNUP, json={"email": email, "password": password})


def bearer(server: Server, email: str, password: str) -> dict[str, str]:
    response = server.login(email, password)
    assert_status(response, 200)
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def body_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part in {message}"
    content: str = part.get_content()
    return content


@pytest.fixture
def client(server: Server) -> httpx.Client:
    """A client from 127.0.0.1 that never logs in."""
    return server.client()


# --- POST /api/v1/users ------------------------------------------------------------------


def test_signup_creates_a_user_who_can_log_in(server: Server) -> None:
    email = new_email()

    response = sign_up(server, email.upper())

    assert_status(response, 201)
    body = json_body(response)
    assert body == {
        "id": body["id"],
        "email": email,
        "is_active": True,
        "is_superuser": False,
    }, describe(response)
    assert isinstance(body["id"], int)
    assert_status(server.login(email, PASSWORD), 200)


def test_signup_with_a_taken_email_is_409(server: Server) -> None:
    assert_error(sign_up(server, server.user.email), 409, "A user with this email already exists")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "user@", "password": PASSWORD}, "email"),
        ({"email": "weak@example.com", "password": "short"}, "password"),
        ({"email": "long@example.com", "password": "x" * 129}, "password"),
        ({"email": "missing@example.com"}, "password"),
        ({"email": "boss@example.com", "password": PASSWORD, "is_superuser": True}, "is_superuser"),
    ],
    ids=["no-at-sign", "no-domain", "short-password", "long-password", "missing", "superuser"],
)
def test_a_bad_signup_is_422(server: Server, body: dict[str, Any], field: str) -> None:
    with server.client(fresh_address=True) as client:
        assert_422_at(client.post(SIGNUP, json=body), field)
    email = str(body["email"])
    assert server.database.execute("SELECT id FROM users WHERE email = ?", email) is None


def test_signup_is_403_while_registration_is_closed(fresh_server: Server) -> None:
    """REGISTRATION_OPEN is off unless set (the fresh server has the default settings)."""
    email = new_email()

    assert_error(sign_up(fresh_server, email), 403, "Registration is closed")
    assert fresh_server.database.execute("SELECT id FROM users WHERE email = ?", email) is None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (SIGNUP, {"email": "limited@example.com", "password": "short"}),
        (RESET, {"email": "nobody-limited@example.com"}),
    ],
    ids=["signup", "password-reset"],
)
def test_signup_and_reset_requests_share_the_login_rate_limit(
    server: Server, path: str, body: dict[str, str]
) -> None:
    client = server.client(fresh_address=True)
    for n in range(RATE_LIMIT_ATTEMPTS):
        response = client.post(path, json=body)
        assert response.status_code in (202, 422), f"attempt {n + 1}: {describe(response)}"
    blocked = client.post(path, json=body)
    assert_error(blocked, 429, "Too many login attempts; try again later")
    assert blocked.headers.get("retry-after", "").isdigit(), describe(blocked)


# --- POST /api/v1/users/me/password ------------------------------------------------------


def test_a_password_change_revokes_every_earlier_token(server: Server) -> None:
    email = new_email()
    assert_status(sign_up(server, email), 201)
    headers = bearer(server, email, PASSWORD)
    client = server.client()

    wrong = client.post(
        CHANGE,
        json={"current_password": "not-the-password", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    weak = client.post(
        CHANGE, json={"current_password": PASSWORD, "new_password": "short"}, headers=headers
    )
    changed = client.post(
        CHANGE, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=headers
    )

    assert_error(wrong, 400, "Incorrect password")
    assert_422_at(weak, "new_password")
    assert_status(changed, 204)
    assert changed.content == b"", describe(changed)
    assert_error(client.get(ME, headers=headers), 401, "Could not validate credentials")
    assert_status(server.login(email, PASSWORD), 401)
    assert_status(server.login(email, NEW_PASSWORD), 200)


# --- POST /api/v1/auth/password-reset and .../confirm ------------------------------------


def test_a_password_reset_by_email(server: Server, mailbox: Mailbox) -> None:
    """The e-mail, received by a real SMTP server, holds a link with a single-use token that
    sets the new password and revokes every earlier token."""
    email = new_email()
    assert_status(sign_up(server, email), 201)
    headers = bearer(server, email, PASSWORD)
    client = server.client(fresh_address=True)

    response = client.post(RESET, json={"email": email})

    assert_status(response, 202)
    assert json_body(response) == RESET_ANSWER
    message = mailbox.wait_for(email)
    assert message["From"] == "Contract Check <noreply@contract.invalid>"
    assert message["Subject"], message
    assert message.get_content_type() == "multipart/alternative"
    text, html = body_of(message, "plain"), body_of(message, "html")
    match = LINK.search(text)
    assert match is not None, text
    token = match.group(1)
    assert f'href="{match.group(0)}"' in html, html

    confirmed = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})

    assert_status(confirmed, 204)
    assert confirmed.content == b"", describe(confirmed)
    assert_error(client.get(ME, headers=headers), 401, "Could not validate credentials")
    assert_status(server.login(email, NEW_PASSWORD), 200)
    assert_status(server.login(email, PASSWORD), 401)
    again = client.post(CONFIRM, json={"token": token, "new_password": PASSWORD})
    assert_error(again, 400, "Invalid or expired token")
    assert token not in server.output()
    assert NEW_PASSWORD not in server.output()


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    server: Server, mailbox: Mailbox
) -> None:
    known, unknown = new_email(), new_email()
    assert_status(sign_up(server, known), 201)
    client = server.client(fresh_address=True)

    for_unknown = client.post(RESET, json={"email": unknown})
    for_known = client.post(RESET, json={"email": known})

    for response in (for_unknown, for_known):
        assert_status(response, 202)
        assert json_body(response) == RESET_ANSWER
    assert for_unknown.headers.get("content-length") == for_known.headers.get("content-length")
    mailbox.wait_for(known)
    assert mailbox.to(unknown) == []


def test_an_expired_reset_token_is_400(server: Server, mailbox: Mailbox) -> None:
    email = new_email()
    assert_status(sign_up(server, email), 201)
    client = server.client(fresh_address=True)
    assert_status(client.post(RESET, json={"email": email}), 202)
    match = LINK.search(body_of(mailbox.wait_for(email), "plain"))
    assert match is not None
    user_id = server.database.execute("SELECT id FROM users WHERE email = ?", email)
    assert user_id is not None
    server.execute_sql(
        "UPDATE password_reset_tokens SET expires_at = created_at WHERE user_id = ?", user_id[0]
    )

    response = client.post(CONFIRM, json={"token": match.group(1), "new_password": NEW_PASSWORD})

    assert_error(response, 400, "Invalid or expired token")
    assert_status(server.login(email, PASSWORD), 200)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (RESET, {"email": "not-an-email"}, "email"),
        (RESET, {}, "email"),
        (CONFIRM, {"token": "abc", "new_password": "short"}, "new_password"),
        (CONFIRM, {"new_password": NEW_PASSWORD}, "token"),
        (CONFIRM, {"token": "abc", "new_password": NEW_PASSWORD, "extra": 1}, "extra"),
    ],
    ids=["bad-email", "no-email", "weak-password", "no-token", "unknown-field"],
)
def test_a_bad_reset_body_is_422(
    server: Server, path: str, body: dict[str, Any], field: str
) -> None:
    with server.client(fresh_address=True) as client:
        assert_422_at(client.post(path, json=body), field)


def test_an_unknown_reset_token_is_400(client: httpx.Client) -> None:
    response = client.post(CONFIRM, json={"token": "no-such-token", "new_password": NEW_PASSWORD})

    assert_error(response, 400, "Invalid or expired token")
