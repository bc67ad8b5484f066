import pytest
from flask import Flask
from marshmallow import Schema

from example import security
from example.errors import parser
from example.schemas import NewPassword
from example.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    password_problem,
    verify_password,
)
from tests.common import ApiClient
from tests.conftest import AppClient

TOO_SHORT = "The password must have at least 12 characters."
TOO_LONG = "The password must have at most 128 characters."


def test_passwords_are_stored_as_argon2_hashes() -> None:
    hashed = hash_password("s3cret-passphrase")

    assert hashed.startswith("$argon2")
    assert "s3cret-passphrase" not in hashed
    assert verify_password("s3cret-passphrase", hashed)
    assert not verify_password("wrong", hashed)


def test_verifying_against_no_hash_fails() -> None:
    assert not verify_password("anything", None)


def test_the_dummy_hash_is_computed_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_DUMMY_HASH", None)  # as after import: not computed yet

    assert not verify_password("anything", None)
    dummy = security._DUMMY_HASH
    assert dummy is not None
    assert dummy.startswith("$argon2")
    assert not verify_password("anything", None)
    assert security._DUMMY_HASH is dummy


def test_tokens_round_trip_and_reject_other_keys() -> None:
    token = create_access_token(7, "k" * 40, expires_minutes=5)

    claims = decode_access_token(token, "k" * 40)
    assert claims is not None
    assert claims.user_id == 7
    assert decode_access_token(token, "z" * 40) is None
    assert decode_access_token("not-a-jwt", "k" * 40) is None


@pytest.mark.parametrize(
    ("length", "problem"),
    [(0, TOO_SHORT), (11, TOO_SHORT), (12, None), (128, None), (129, TOO_LONG)],
)
def test_passwords_have_12_to_128_characters(length: int, problem: str | None) -> None:
    assert password_problem("p" * length) == problem


@pytest.fixture
def password_client(fresh_app: Flask) -> AppClient:
    """An app with a route that takes a NewPassword, as signup and password changes will."""

    class Body(Schema):
        password = NewPassword(required=True)

    @fresh_app.post("/password")
    def set_password() -> dict[str, str]:
        parser.parse(Body(), location="json")
        return {}

    return AppClient(fresh_app.test_client())


def test_the_api_refuses_a_new_password_outside_the_policy_with_a_422(
    password_client: ApiClient,
) -> None:
    for password, problem in (("p" * 11, TOO_SHORT), ("p" * 129, TOO_LONG)):
        response = password_client.post("/password", json={"password": password})

        assert response.status_code == 422, response.text
        assert response.json() == {
            "detail": [{"loc": ["body", "password"], "msg": problem, "type": "value_error"}]
        }
    for password in ("p" * 12, "p" * 128):
        assert password_client.post("/password", json={"password": password}).status_code == 200
