"""Accounts: sign up, change one's password, reset a forgotten one by e-mail.

POST /api/v1/users (when REGISTRATION_OPEN), POST /api/v1/users/me/password,
POST /api/v1/auth/password-reset and POST /api/v1/auth/password-reset/confirm. What the
flavors share (the statements, the messages, the e-mail) is in accounts.py.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, after_this_request
from sqlalchemy.exc import IntegrityError

from example import accounts, mail
from example.api.auth import RETRY_AFTER_HEADER, limit_attempts
from example.api.blueprint import make_blueprint
from example.db import get_database, get_session
from example.deps import (
    BEARER,
    get_current_user,
    get_settings,
    login_required,
)
from example.errors import abort_json
from example.models import User
from example.schemas import (
    HTTPError,
    HTTPValidationError,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    Signup,
    UserRead,
)
from example.security import hash_password, verify_password

blp = make_blueprint(
    "accounts", url_prefix="/api/v1", description="Sign up, change or reset a password."
)

TOO_MANY: dict[str, Any] = {
    "schema": HTTPError,
    "description": "Too many attempts from this address (the login rate limit)",
    "headers": RETRY_AFTER_HEADER,
}


def registration_open(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run the view only while REGISTRATION_OPEN is on; else 403, before the body is read."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not get_settings().registration_open:
            abort_json(403, accounts.REGISTRATION_CLOSED)
        return view(*args, **kwargs)

    return wrapper


def no_content() -> Response:
    # A Response passes through flask-smorest untouched: 204, no body, no Content-Type.
    response = Response(status=204)
    response.headers.remove("Content-Type")
    return response


@blp.route("/users", methods=["POST"])
@registration_open
@limit_attempts("signup")
@blp.arguments(Signup)
@blp.response(201, UserRead)
@blp.alt_response(403, schema=HTTPError, description="Registration is closed")
@blp.alt_response(409, schema=HTTPError, description="The e-mail address is taken")
@blp.alt_response(422, schema=HTTPValidationError)
@blp.alt_response(429, **TOO_MANY)
def sign_up(body: dict[str, str]) -> tuple[User, int]:
    """Create an account (never a superuser): open while REGISTRATION_OPEN is on."""
    user = User(
        email=body["email"],
        hashed_password=hash_password(body["password"]),
        is_active=True,
        is_superuser=False,
    )
    session = get_session()
    session.add(user)
    try:
        session.commit()
    except IntegrityError:  # the e-mail address is the only unique column a user sets
        session.rollback()
        abort_json(409, accounts.EMAIL_TAKEN)
    return user, 201


@blp.route("/users/me/password", methods=["POST"])
@blp.doc(security=BEARER)
@login_required
@blp.arguments(PasswordChange)
@blp.response(204)
@blp.alt_response(400, schema=HTTPError, description="The current password is wrong")
@blp.alt_response(401, schema=HTTPError)
@blp.alt_response(422, schema=HTTPValidationError)
def change_password(body: dict[str, str]) -> Response:
    """Change the current user's password: every token issued before it stops working."""
    user = get_current_user()
    if not verify_password(body["current_password"], user.hashed_password):
        abort_json(400, accounts.INCORRECT_PASSWORD)
    user.hashed_password = hash_password(body["new_password"])
    get_session().commit()
    return no_content()


@blp.route("/auth/password-reset", methods=["POST"])
@limit_attempts("password-reset")
@blp.arguments(PasswordResetRequest)
@blp.response(202, HTTPError, description="The same answer whether or not the account exists")
@blp.alt_response(422, schema=HTTPValidationError)
@blp.alt_response(429, **TOO_MANY)
def request_password_reset(body: dict[str, str]) -> tuple[dict[str, str], int]:
    """E-mail a single-use link to reset the password, if an active account has the address."""
    email = body["email"]
    sessionmaker, settings = get_database().sessionmaker, get_settings()

    def send_reset_email() -> None:  # in the mail thread (mail.py), never a request's
        with sessionmaker() as session, session.begin():
            token = accounts.issue_reset_token(
                session, email, settings.password_reset_expire_minutes
            )
        if token is not None:
            mail.send(settings, accounts.reset_email(settings, email, token))

    def deliver() -> None:
        mail.send_later(send_reset_email)

    @after_this_request
    def after_the_response(response: Response) -> Response:
        # The server calls it once the response has been sent: neither the answer nor its
        # timing tells whether the account exists, and a mail server that is down fails nothing.
        response.call_on_close(deliver)
        return response

    return {"detail": accounts.RESET_REQUESTED}, 202


@blp.route("/auth/password-reset/confirm", methods=["POST"])
@blp.arguments(PasswordResetConfirm)
@blp.response(204)
@blp.alt_response(400, schema=HTTPError, description="Unknown, expired or spent token")
@blp.alt_response(422, schema=HTTPValidationError)
def confirm_password_reset(body: dict[str, str]) -> Response:
    """Set a new password with the token of a reset e-mail, which is spent: every token issued
    before it, access or reset, stops working."""
    session = get_session()
    spent = session.execute(accounts.spend_reset_token(body["token"])).one_or_none()
    user = session.get(User, spent[0]) if spent else None
    if spent is None or user is None or not accounts.may_reset(user, spent[1]):
        abort_json(400, accounts.INVALID_RESET_TOKEN)
    user.hashed_password = hash_password(body["new_password"])
    session.commit()
    return no_content()
