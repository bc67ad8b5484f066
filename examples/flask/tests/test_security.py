import pytest

from example import security
from example.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    verify_password,
)


def test_passwords_are_stored_as_argon2_hashes() -> None:
    hashed = hash_password("s3cret-pass")

    assert hashed.startswith("$argon2")
    assert "s3cret-pass" not in hashed
    assert verify_password("s3cret-pass", hashed)
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
