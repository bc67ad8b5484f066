from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from example.models import User
from example.security import ALGORITHM, create_access_token, hash_password
from tests.common import TEST_SECRET_KEY, ApiClient, Login, MakeUser

TOKEN_URL = "/api/v1/auth/token"


def test_login_issues_a_bearer_token_naming_the_user(
    client: ApiClient, make_user: MakeUser
) -> None:
    user_id = make_user("ada@example.com", "s3cret-passphrase")

    response = client.post(
        TOKEN_URL, data={"username": "ada@example.com", "password": "s3cret-passphrase"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    claims = jwt.decode(body["access_token"], TEST_SECRET_KEY, algorithms=[ALGORITHM])
    assert claims["sub"] == str(user_id)
    assert claims["exp"] > datetime.now(UTC).timestamp()


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", "s3cret-passphrase"),
        ("inactive@example.com", "s3cret-passphrase"),
    ],
    ids=["wrong-password", "unknown-user", "inactive-user"],
)
def test_failed_login_gives_the_same_401_whatever_the_reason(
    client: ApiClient, make_user: MakeUser, username: str, password: str
) -> None:
    make_user("ada@example.com", "s3cret-passphrase")
    make_user("inactive@example.com", "s3cret-passphrase", is_active=False)

    response = client.post(TOKEN_URL, data={"username": username, "password": password})

    assert response.status_code == 401
    assert response.json() == {"detail": "Incorrect email or password"}


def test_login_without_a_password_is_a_422_on_the_body(client: ApiClient) -> None:
    response = client.post(TOKEN_URL, data={"username": "ada@example.com"})

    assert response.status_code == 422
    assert ["body", "password"] in [error["loc"] for error in response.json()["detail"]]


def test_login_with_a_nul_character_in_the_username_is_a_422_on_it(client: ApiClient) -> None:
    response = client.post(TOKEN_URL, data={"username": "ada\x00@example.com", "password": "x"})

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "username"],
            "msg": "String should match pattern '^[^\\x00]*$'",
            "type": "string_pattern_mismatch",
        }
    ]


def test_protected_endpoint_without_a_token_is_401(client: ApiClient) -> None:
    response = client.get("/api/v1/users/me")

    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _expired_token(user_id: int) -> str:
    return create_access_token(user_id, TEST_SECRET_KEY, expires_minutes=-1)


def _tampered_token(user_id: int) -> str:
    token = create_access_token(user_id, TEST_SECRET_KEY, expires_minutes=5)
    return token[:-2] + ("AA" if not token.endswith("AA") else "BB")


def _foreign_key_token(user_id: int) -> str:
    return create_access_token(user_id, "another-secret-key-of-someone-else-0123", 5)


def _no_exp_token(user_id: int) -> str:
    return jwt.encode({"sub": str(user_id)}, TEST_SECRET_KEY, algorithm=ALGORITHM)


def _no_iat_token(user_id: int) -> str:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    return jwt.encode({"sub": str(user_id), "exp": expires}, TEST_SECRET_KEY, algorithm=ALGORITHM)


def _future_token(user_id: int) -> str:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    return jwt.encode({"sub": "not-a-number", "exp": expires}, TEST_SECRET_KEY, algorithm=ALGORITHM)


@pytest.mark.parametrize(
    "make_token",
    [
        _expired_token,
        _tampered_token,
        _foreign_key_token,
        _no_exp_token,
        _no_iat_token,
        _future_token,
    ],
    ids=["expired", "tampered", "wrong-key", "no-exp", "no-iat", "bad-subject"],
)
def test_invalid_tokens_are_401(
    client: ApiClient, make_user: MakeUser, make_token: Callable[[int], str]
) -> None:
    user_id = make_user("ada@example.com")

    response = client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {make_token(user_id)}"}
    )

    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_token_of_a_deleted_user_is_401(client: ApiClient) -> None:
    token = create_access_token(424242, TEST_SECRET_KEY, expires_minutes=5)

    response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def test_token_of_a_deactivated_user_is_401(
    client: ApiClient, make_user: MakeUser, login: Login, engine: Engine
) -> None:
    user_id = make_user("ada@example.com")
    headers = login("ada@example.com")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET is_active = :off WHERE id = :id"), {"off": False, "id": user_id}
        )

    response = client.get("/api/v1/users/me", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"detail": "Could not validate credentials"}


def _me(client: ApiClient, headers: dict[str, str]) -> int:
    status: int = client.get("/api/v1/users/me", headers=headers).status_code
    return status


def test_a_password_change_revokes_the_tokens_issued_before_it(
    client: ApiClient, make_user: MakeUser, login: Login, engine: Engine
) -> None:
    user_id = make_user("ada@example.com")
    old_headers = login("ada@example.com")
    with Session(engine) as session, session.begin():
        user = session.get_one(User, user_id)
        user.hashed_password = hash_password("a brand new passphrase")

    # In the same second as the change, most likely: `iat` must be finer than a second.
    new_headers = login("ada@example.com", "a brand new passphrase")

    assert _me(client, old_headers) == 401
    assert _me(client, new_headers) == 200


def test_a_deactivation_revokes_the_tokens_issued_before_it(
    client: ApiClient, make_user: MakeUser, login: Login, engine: Engine
) -> None:
    user_id = make_user("ada@example.com")
    headers = login("ada@example.com")
    with Session(engine) as session, session.begin():
        session.get_one(User, user_id).is_active = False
    with Session(engine) as session, session.begin():
        session.get_one(User, user_id).is_active = True

    assert _me(client, headers) == 401
    assert _me(client, login("ada@example.com")) == 200


def test_tokens_are_compared_with_the_password_change_to_the_microsecond(
    client: ApiClient, make_user: MakeUser, engine: Engine
) -> None:
    user_id = make_user("ada@example.com")
    changed = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=500_000)
    with Session(engine) as session, session.begin():
        session.get_one(User, user_id).password_changed_at = changed

    def token(issued_at: float) -> dict[str, str]:
        claims = {"sub": str(user_id), "iat": issued_at, "exp": changed + timedelta(hours=1)}
        return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET_KEY, ALGORITHM)}"}

    assert _me(client, token(changed.timestamp() - 0.000001)) == 401
    assert _me(client, token(changed.timestamp())) == 200
    assert _me(client, token(changed.timestamp() + 0.000001)) == 200
