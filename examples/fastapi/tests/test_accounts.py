"""Accounts: signup, password change and password reset by e-mail (API-CONTRACT.md).

The reset e-mail goes through a real SMTP server on localhost (the `mailbox` fixture), and
the tests read it as it was received.
"""

import logging
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from example import accounts, mail
from example.models import PasswordResetToken, User, utcnow
from example.security import token_digest
from example.settings import Settings
from tests.common import (
    DEFAULT_PASSWORD,
    SETTLE_SECONDS,
    SMTP_HOST,
    ApiClient,
    Mailbox,
    MakeUser,
    Receiver,
    bearer,
    free_port,
    settle,
)

SIGNUP_URL = "/api/v1/users"
CHANGE_URL = "/api/v1/users/me/password"
RESET_URL = "/api/v1/auth/password-reset"
CONFIRM_URL = "/api/v1/auth/password-reset/confirm"
NEW_PASSWORD = "a brand new passphrase"
RESET_ANSWER = {"detail": "If the account exists, an email is on its way"}
INVALID_TOKEN = {"detail": "Invalid or expired token"}


def events(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, Any]]:
    """The structured events a logger ("mail", "tasks") wrote, as structlog's event dicts."""
    return [
        record.msg
        for record in caplog.records
        if record.name.endswith(f".{logger}") and isinstance(record.msg, dict)
    ]


def log_in(client: ApiClient, email: str, password: str) -> int:
    form = {"username": email, "password": password}
    status: int = client.post("/api/v1/auth/token", data=form).status_code
    return status


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content: str = body.get_content()
    return content


def html_of(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    content: str = body.get_content()
    return content


def reset_token(mailbox: Mailbox) -> str:
    """The token of the one reset e-mail received (the link's `#token=...`)."""
    match = re.search(r"#token=([\w-]+)", text_of(mailbox.only_message()))
    assert match is not None, text_of(mailbox.only_message())
    return match.group(1)


@pytest.fixture
def closed_registration(
    client: ApiClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REGISTRATION_OPEN off, on the run's app (it reads its settings on every request)."""
    monkeypatch.setattr(settings, "registration_open", False)


@pytest.fixture
def mail_server_down(
    client: ApiClient, mailbox: Mailbox, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMTP_PORT names a port where nothing listens."""
    port = free_port()
    monkeypatch.setattr(settings, "smtp_port", port)


# --- signup ------------------------------------------------------------------------------


def test_signup_creates_a_user_who_is_no_superuser_and_can_log_in(client: ApiClient) -> None:
    response = client.post(
        SIGNUP_URL, json={"email": " Ada@Example.COM", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": response.json()["id"],
        "email": "ada@example.com",
        "is_active": True,
        "is_superuser": False,
    }
    assert log_in(client, "ada@example.com", DEFAULT_PASSWORD) == 200


@pytest.mark.usefixtures("closed_registration")
def test_signup_while_registration_is_closed_is_a_403(client: ApiClient, engine: Engine) -> None:
    response = client.post(
        SIGNUP_URL, json={"email": "ada@example.com", "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Registration is closed"}
    with Session(engine) as session:
        assert session.scalar(select(User)) is None


def test_registration_is_closed_by_default() -> None:
    assert Settings(_env_file=None).registration_open is False


def test_signup_with_a_taken_email_is_a_409(client: ApiClient, make_user: MakeUser) -> None:
    make_user("ada@example.com")

    response = client.post(SIGNUP_URL, json={"email": "ADA@example.com", "password": NEW_PASSWORD})

    assert response.status_code == 409
    assert response.json() == {"detail": "A user with this email already exists"}


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"email": "not-an-email", "password": DEFAULT_PASSWORD}, ["body", "email"], "value_error"),
        ({"email": "ada@", "password": DEFAULT_PASSWORD}, ["body", "email"], "value_error"),
        ({"email": "ada@example.com", "password": "short"}, ["body", "password"], "value_error"),
        ({"email": "ada@example.com", "password": "x" * 129}, ["body", "password"], "value_error"),
        ({"email": "ada@example.com"}, ["body", "password"], "missing"),
        (
            {"email": "ada@example.com", "password": DEFAULT_PASSWORD, "is_superuser": True},
            ["body", "is_superuser"],
            "extra_forbidden",
        ),
    ],
    ids=["no-at-sign", "no-domain", "short-password", "long-password", "missing", "superuser"],
)
def test_a_bad_signup_is_a_422_and_creates_nobody(
    client: ApiClient, engine: Engine, body: dict[str, Any], loc: list[str], error_type: str
) -> None:
    response = client.post(SIGNUP_URL, json=body)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (loc, error_type)
    with Session(engine) as session:
        assert session.scalar(select(User)) is None


@pytest.mark.parametrize("settings_overrides", [{"auth_rate_limit": "3/minute"}])
@pytest.mark.parametrize(
    ("url", "body"),
    [
        (SIGNUP_URL, {"email": "ada@example.com", "password": "short"}),
        (RESET_URL, {"email": "ada@example.com"}),
    ],
    ids=["signup", "password-reset"],
)
def test_signup_and_reset_requests_count_against_the_login_limit(
    client: ApiClient, mailbox: Mailbox, url: str, body: dict[str, str]
) -> None:
    statuses = [client.post(url, json=body).status_code for _ in range(4)]

    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    refused = client.post(url, json=body)
    assert refused.json() == {"detail": "Too many login attempts; try again later"}
    assert int(refused.headers["Retry-After"]) >= 1


# --- password change ---------------------------------------------------------------------


def test_a_password_change_revokes_every_earlier_token(
    client: ApiClient, make_user: MakeUser, settings: Settings
) -> None:
    headers = bearer(make_user("ada@example.com"), settings)
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}

    response = client.post(CHANGE_URL, json=body, headers=headers)

    assert response.status_code == 204
    assert response.content == b""
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert log_in(client, "ada@example.com", DEFAULT_PASSWORD) == 401
    assert log_in(client, "ada@example.com", NEW_PASSWORD) == 200


def test_a_wrong_current_password_is_a_400_and_changes_nothing(
    client: ApiClient, user_headers: dict[str, str]
) -> None:
    body = {"current_password": "not my password", "new_password": NEW_PASSWORD}

    response = client.post(CHANGE_URL, json=body, headers=user_headers)

    assert response.status_code == 400
    assert response.json() == {"detail": "Incorrect password"}
    assert client.get("/api/v1/users/me", headers=user_headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"current_password": DEFAULT_PASSWORD, "new_password": "short"}, ["body", "new_password"]),
        ({"new_password": NEW_PASSWORD}, ["body", "current_password"]),
    ],
    ids=["weak", "missing"],
)
def test_a_bad_password_change_is_a_422(
    client: ApiClient, user_headers: dict[str, str], body: dict[str, str], loc: list[str]
) -> None:
    response = client.post(CHANGE_URL, json=body, headers=user_headers)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


def test_a_password_change_needs_a_token(client: ApiClient) -> None:
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}

    response = client.post(CHANGE_URL, json=body)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- password reset ----------------------------------------------------------------------


def test_a_reset_email_holds_a_single_use_link_that_sets_the_password(
    client: ApiClient, make_user: MakeUser, settings: Settings, mailbox: Mailbox
) -> None:
    headers = bearer(make_user("ada@example.com"), settings)

    response = client.post(RESET_URL, json={"email": "Ada@Example.com"})

    assert response.status_code == 202
    assert response.json() == RESET_ANSWER
    message = mailbox.only_message()
    assert mailbox.recipients == [["ada@example.com"]]
    assert message["To"] == "ada@example.com"
    assert message["From"] == settings.email_from
    assert message["Subject"] == accounts.RESET_SUBJECT
    assert message["Message-ID"].endswith("@example.com>")
    token = reset_token(mailbox)
    link = f"https://app.example.com/reset-password#token={token}"
    assert link in text_of(message)
    assert f'href="{link}"' in html_of(message)
    assert "60 minutes" in text_of(message)

    confirmed = client.post(CONFIRM_URL, json={"token": token, "new_password": NEW_PASSWORD})

    assert confirmed.status_code == 204
    assert confirmed.content == b""
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert log_in(client, "ada@example.com", NEW_PASSWORD) == 200
    again = client.post(CONFIRM_URL, json={"token": token, "new_password": DEFAULT_PASSWORD})
    assert (again.status_code, again.json()) == (400, INVALID_TOKEN)


@pytest.mark.parametrize("who", ["unknown", "inactive"])
def test_an_address_without_an_active_account_gets_the_same_answer_and_no_email(
    client: ApiClient, make_user: MakeUser, mailbox: Mailbox, who: str
) -> None:
    make_user("ada@example.com", is_active=who != "inactive")
    address = "nobody@example.com" if who == "unknown" else "ada@example.com"

    response = client.post(RESET_URL, json={"email": address})

    assert (response.status_code, response.json()) == (202, RESET_ANSWER)
    assert mailbox.messages == []


def test_the_database_keeps_only_the_tokens_digest(
    client: ApiClient, make_user: MakeUser, mailbox: Mailbox, engine: Engine
) -> None:
    make_user("ada@example.com")
    client.post(RESET_URL, json={"email": "ada@example.com"})
    token = reset_token(mailbox)

    with Session(engine) as session:
        [row] = session.scalars(select(PasswordResetToken)).all()
    assert row.token_hash == token_digest(token) != token
    assert row.expires_at - row.created_at == timedelta(minutes=60)


def test_only_the_latest_reset_emails_link_works(
    client: ApiClient, make_user: MakeUser, mailbox: Mailbox
) -> None:
    make_user("ada@example.com")
    client.post(RESET_URL, json={"email": "ada@example.com"})
    first = reset_token(mailbox)
    mailbox.messages.clear()
    client.post(RESET_URL, json={"email": "ada@example.com"})
    second = reset_token(mailbox)

    refused = client.post(CONFIRM_URL, json={"token": first, "new_password": NEW_PASSWORD})
    accepted = client.post(CONFIRM_URL, json={"token": second, "new_password": NEW_PASSWORD})

    assert (refused.status_code, accepted.status_code) == (400, 204)


@pytest.mark.parametrize("change", ["expired", "password-changed", "deactivated", "unknown"])
def test_an_unusable_reset_token_is_a_400(
    client: ApiClient, make_user: MakeUser, mailbox: Mailbox, engine: Engine, change: str
) -> None:
    user_id = make_user("ada@example.com")
    client.post(RESET_URL, json={"email": "ada@example.com"})
    token = reset_token(mailbox)
    with Session(engine) as session, session.begin():
        if change == "expired":
            session.execute(update(PasswordResetToken).values(expires_at=utcnow()))
        elif change == "password-changed":
            session.get_one(User, user_id).hashed_password = "another hash"
        elif change == "deactivated":
            session.get_one(User, user_id).is_active = False
        else:
            token = token[::-1]

    response = client.post(CONFIRM_URL, json={"token": token, "new_password": NEW_PASSWORD})

    assert (response.status_code, response.json()) == (400, INVALID_TOKEN)


@pytest.mark.parametrize(
    ("url", "body", "loc"),
    [
        (RESET_URL, {"email": "not-an-email"}, ["body", "email"]),
        (RESET_URL, {}, ["body", "email"]),
        (CONFIRM_URL, {"token": "abc", "new_password": "short"}, ["body", "new_password"]),
        (CONFIRM_URL, {"new_password": NEW_PASSWORD}, ["body", "token"]),
        (CONFIRM_URL, {"token": "abc", "new_password": NEW_PASSWORD, "x": 1}, ["body", "x"]),
    ],
    ids=["bad-email", "no-email", "weak-password", "no-token", "unknown-field"],
)
def test_a_bad_reset_body_is_a_422(
    client: ApiClient, url: str, body: dict[str, Any], loc: list[str]
) -> None:
    response = client.post(url, json=body)

    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [loc]


@pytest.mark.usefixtures("mail_server_down")
def test_a_mail_server_that_is_down_is_logged_and_fails_nothing(
    client: ApiClient, make_user: MakeUser, caplog: pytest.LogCaptureFixture
) -> None:
    make_user("ada@example.com")

    with caplog.at_level(logging.WARNING):
        response = client.post(RESET_URL, json={"email": "ada@example.com"})
        settle()

    assert (response.status_code, response.json()) == (202, RESET_ANSWER)
    [event] = events(caplog, "mail")
    assert event["event"] == "email_failed"
    assert event["error"] == "ConnectionRefusedError"
    assert event["subject"] == accounts.RESET_SUBJECT
    assert "token" not in " ".join(str(record.msg) for record in caplog.records)


def test_a_mail_server_that_never_answers_holds_up_no_request(
    client: ApiClient,
    make_user: MakeUser,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The mail thread waits for the server's greeting (up to mail.TIMEOUT_SECONDS); the
    request, and the next ones, do not."""
    make_user("ada@example.com")
    caplog.set_level(logging.WARNING)
    with socket.socket() as silent:  # the kernel accepts connections; no one ever answers
        silent.bind((SMTP_HOST, 0))
        silent.listen()
        monkeypatch.setattr(settings, "smtp_port", silent.getsockname()[1])

        response = client.post(RESET_URL, json={"email": "ada@example.com"})

        assert (response.status_code, response.json()) == (202, RESET_ANSWER)
        assert not mail.outbox.flush(timeout=0.05)  # the e-mail still waits for the greeting
        assert client.get("/health").status_code == 200
    settle()  # the server is gone: the mail thread gives up on it
    assert [event["event"] for event in events(caplog, "mail")] == ["email_failed"]


def test_the_mail_thread_keeps_at_most_max_pending_emails_and_outlives_a_failed_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = mail.Outbox(max_pending=1)
    caplog.set_level(logging.WARNING)
    busy, release, ran = threading.Event(), threading.Event(), []

    def hold() -> None:  # a send that waits for a slow mail server
        busy.set()
        release.wait(SETTLE_SECONDS)

    def fail() -> None:  # a database error while issuing the token
        raise RuntimeError("no database")

    assert outbox.put(hold)
    assert busy.wait(SETTLE_SECONDS)
    assert outbox.put(fail)  # waits: one pending
    assert not outbox.put(lambda: ran.append("dropped"))  # one too many
    release.set()
    assert outbox.flush(timeout=SETTLE_SECONDS)
    assert outbox.put(lambda: ran.append("after the failure"))
    assert outbox.flush(timeout=SETTLE_SECONDS)

    assert ran == ["after the failure"]
    assert [event["event"] for event in events(caplog, "mail")] == [
        "email_dropped",
        "email_job_failed",
    ]


# --- the e-mail ----------------------------------------------------------------------------


def test_values_are_escaped_in_the_html_body_only(settings: Settings) -> None:
    text, html = mail.render(
        "password_reset",
        {"email": "a<b>@example.com", "reset_url": "x?a=1&b=2", "expire_minutes": "5"},
    )

    assert "a<b>@example.com" in text
    assert "x?a=1&b=2" in text
    assert "a&lt;b&gt;@example.com" in html
    assert 'href="x?a=1&amp;b=2"' in html


def test_a_login_the_mail_server_does_not_offer_fails_the_sending_only(
    mailbox: Mailbox, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """SMTP_USER set: a login first (the tests' server offers none: refused, logged)."""
    password = "mail server password"
    with_login = settings.model_copy(
        update={"smtp_user": "mailer", "smtp_password": SecretStr(password)}
    )
    message = accounts.reset_email(with_login, "ada@example.com", "the-token")

    with caplog.at_level(logging.INFO):
        sent = mail.send(with_login, message)

    assert sent is False
    assert mailbox.messages == []
    assert [event["error"] for event in events(caplog, "mail")] == ["SMTPNotSupportedError"]
    assert password not in caplog.text


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(params=["starttls", "ssl"])
def tls_mail_server(
    request: pytest.FixtureRequest,
    certificate_authority: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Mailbox, str]]:
    """A mail server that speaks TLS (SMTP_TLS: after STARTTLS, or from the start), with a
    certificate the app trusts (its authority in mail.tls_context)."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert(SMTP_HOST).configure_cert(server_context)
    mailbox = Mailbox(free_port())
    if request.param == "ssl":
        controller = Controller(
            Receiver(mailbox), hostname=SMTP_HOST, port=mailbox.port, ssl_context=server_context
        )
    else:
        controller = Controller(
            Receiver(mailbox),
            hostname=SMTP_HOST,
            port=mailbox.port,
            tls_context=server_context,
            require_starttls=True,
        )
    client_context = ssl.create_default_context()
    certificate_authority.configure_trust(client_context)
    monkeypatch.setattr(mail, "tls_context", lambda: client_context)
    controller.start()
    yield mailbox, request.param
    controller.stop()


def test_mail_goes_over_tls_when_the_settings_say_so(
    settings: Settings, tls_mail_server: tuple[Mailbox, str]
) -> None:
    server, tls = tls_mail_server
    over_tls = settings.model_copy(update={"smtp_port": server.port, "smtp_tls": tls})
    message = accounts.reset_email(over_tls, "ada@example.com", "the-token")

    assert mail.send(over_tls, message) is True
    assert server.recipients == [["ada@example.com"]]
    assert server.only_message()["Subject"] == accounts.RESET_SUBJECT


def test_password_reset_url_must_hold_the_token_placeholder() -> None:
    with pytest.raises(ValueError, match="password_reset_url"):
        Settings(password_reset_url="https://app.example.com/reset", _env_file=None)


def test_openapi_documents_the_account_endpoints(client: ApiClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    expected = {
        SIGNUP_URL: {"201", "403", "409", "422", "429"},
        CHANGE_URL: {"204", "400", "401", "422"},
        RESET_URL: {"202", "422", "429"},
        CONFIRM_URL: {"204", "400", "422"},
    }
    for path, statuses in expected.items():
        operation = paths[path]["post"]
        assert statuses <= set(operation["responses"]), (path, set(operation["responses"]))
        assert "requestBody" in operation
    assert {"OAuth2PasswordBearer": []} in paths[CHANGE_URL]["post"]["security"]
