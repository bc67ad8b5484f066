from tests.common import ApiClient, Login, MakeUser


def test_me_returns_the_current_user_without_any_password_field(
    client: ApiClient, make_user: MakeUser, login: Login
) -> None:
    user_id = make_user("ada@example.com", is_superuser=True)

    response = client.get("/api/v1/users/me", headers=login("ada@example.com"))

    assert response.status_code == 200
    assert response.json() == {
        "id": user_id,
        "email": "ada@example.com",
        "is_active": True,
        "is_superuser": True,
    }
