"""The FastAPI flavor's admin (Starlette-Admin): model views, password hashing and CSRF.

The contract every flavor shares (login, logout, redirects, 403) is in test_admin.py,
whose helpers these tests reuse.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from example.admin.csrf import SCRIPT_COOKIE
from example.models import User
from example.resources.items.model import Item
from example.security import verify_password
from tests.common import DEFAULT_PASSWORD, LogInAdmin, MakeUser
from tests.conftest import AppClient
from tests.test_admin import LOGIN_URL, assert_redirects_to, attribute, inputs

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def admin_token(make_user: MakeUser, log_in_admin: LogInAdmin) -> str:
    """`client` logged in to the admin as a superuser (admin@example.com, user id 1), without
    the login form (test_admin.py tests it): the session's CSRF token."""
    return log_in_admin(make_user("admin@example.com", is_superuser=True)).csrf_token


@pytest.fixture
def admin_client(client: AppClient, admin_token: str) -> AppClient:
    """`client`, logged in to the admin as a superuser (see `admin_token`)."""
    return client


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def form_token(client: AppClient, url: str) -> str:
    """The CSRF token of the admin form at `url`."""
    page = client.get(url, follow_redirects=False)
    assert page.status_code == 200, page.text
    token = attribute(inputs(page.text)["csrf_token"], "value")
    assert token
    return token


def post_form(client: AppClient, url: str, data: dict[str, str], token: str) -> Any:
    """Send the admin form at `url`, with the session's CSRF token."""
    return client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)


def log_in(client: AppClient, email: str, password: str = DEFAULT_PASSWORD) -> Any:
    """Log in through the login form (with the token of the page)."""
    form = {"email": email, "password": password}
    return post_form(client, LOGIN_URL, form, form_token(client, LOGIN_URL))


def create_item(client: AppClient, token: str, name: str = "Widget", owner_id: int = 1) -> None:
    form = {"name": name, "description": "A thing", "price": "9.5", "owner": str(owner_id)}
    response = post_form(client, "/admin/item/create", form, token)
    assert_redirects_to(response, "/admin/item/list")


def user_by_email(db: Session, email: str) -> User:
    found = db.scalar(select(User).where(User.email == email))
    assert found is not None
    db.refresh(found)
    return found


def test_a_superuser_creates_a_user_whose_password_is_hashed(
    admin_client: AppClient, admin_token: str, db: Session
) -> None:
    form = {"email": " New@Example.com ", "password": NEW_PASSWORD, "is_active": "on"}
    assert admin_client.get("/admin/user/create").status_code == 200

    response = post_form(admin_client, "/admin/user/create", form, admin_token)

    assert_redirects_to(response, "/admin/user/list")
    created = user_by_email(db, "new@example.com")
    assert created.is_active
    assert not created.is_superuser
    assert created.hashed_password.startswith("$argon2")
    assert verify_password(NEW_PASSWORD, created.hashed_password)
    pages = [
        "/admin/",
        "/admin/user/list",
        f"/admin/user/detail?pk={created.id}",
        f"/admin/user/edit?pk={created.id}",
    ]
    for url in pages:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert "new@example.com" in page.text or url == "/admin/"
        assert created.hashed_password not in page.text, url
        assert "$argon2" not in page.text, url
        assert NEW_PASSWORD not in page.text, url
        assert "hashed_password" not in page.text, url


def test_the_user_export_has_no_password_column(admin_client: AppClient) -> None:
    admin_client.get("/admin/user/list")
    response = admin_client.post(
        "/admin/_api/user/action",
        params={"name": "export"},
        # Starlette-Admin's export posts a form of its own, with a `csrftoken` field.
        data={"format": "csv", "scope": "page", "csrftoken": admin_client.cookies[SCRIPT_COOKIE]},
    )

    assert response.status_code == 200
    header = response.text.splitlines()[0]
    assert "admin@example.com" in response.text
    assert "password" not in header
    assert "$argon2" not in response.text


def test_editing_a_user_with_an_empty_password_keeps_it(
    admin_client: AppClient, admin_token: str, make_user: MakeUser, db: Session
) -> None:
    user_id = make_user("user@example.com")
    url = f"/admin/user/edit?pk={user_id}"
    before = user_by_email(db, "user@example.com").hashed_password

    response = post_form(
        admin_client,
        url,
        {"email": "user@example.com", "password": "", "is_active": "on"},
        admin_token,
    )

    assert response.status_code == 303, response.text
    assert user_by_email(db, "user@example.com").hashed_password == before

    response = post_form(
        admin_client, url, {"email": "user@example.com", "password": NEW_PASSWORD}, admin_token
    )

    assert response.status_code == 303, response.text
    changed = user_by_email(db, "user@example.com")
    assert verify_password(NEW_PASSWORD, changed.hashed_password)
    assert not changed.is_active


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"email": "new@example.com", "password": ""}, "password"),
        ({"email": "admin@example.com", "password": NEW_PASSWORD}, "email"),
        ({"email": "not an address", "password": NEW_PASSWORD}, "email"),
        ({"email": "new\x00@example.com", "password": NEW_PASSWORD}, "email"),
    ],
    ids=["no-password", "taken-email", "not-an-email", "nul-in-email"],
)
def test_invalid_users_are_refused_with_the_form_again(
    admin_client: AppClient, admin_token: str, db: Session, form: dict[str, str], field: str
) -> None:
    response = post_form(admin_client, "/admin/user/create", form, admin_token)

    assert response.status_code == 422
    assert {"csrf_token", field} <= set(inputs(response.text))
    assert len(db.scalars(select(User)).all()) == 1
    # The form shown again does not send the typed password back.
    assert NEW_PASSWORD not in response.text


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("p" * 11, "The password must have at least 12 characters."),
        ("p" * 129, "The password must have at most 128 characters."),
    ],
)
def test_the_password_policy_is_a_form_error(
    admin_client: AppClient,
    admin_token: str,
    make_user: MakeUser,
    db: Session,
    password: str,
    problem: str,
) -> None:
    user_id = make_user("user@example.com")
    before = user_by_email(db, "user@example.com").hashed_password

    created = post_form(
        admin_client,
        "/admin/user/create",
        {"email": "new@example.com", "password": password},
        admin_token,
    )
    edited = post_form(
        admin_client,
        f"/admin/user/edit?pk={user_id}",
        {"email": "user@example.com", "password": password},
        admin_token,
    )

    assert created.status_code == 422
    assert problem in created.text
    assert db.scalars(select(User.email).where(User.email == "new@example.com")).all() == []
    assert edited.status_code == 422
    assert problem in edited.text
    db.expire_all()
    assert user_by_email(db, "user@example.com").hashed_password == before


def test_a_superuser_creates_an_item_for_a_chosen_owner(
    admin_client: AppClient, admin_token: str, make_user: MakeUser, db: Session
) -> None:
    owner_id = make_user("owner@example.com")
    assert admin_client.get("/admin/item/create").status_code == 200

    create_item(admin_client, admin_token, "Widget", owner_id)

    item = db.scalars(select(Item)).one()
    assert (item.name, item.description, item.price) == ("Widget", "A thing", 9.5)
    assert item.owner_id == owner_id
    assert "Widget" in admin_client.get("/admin/item/list").text


@pytest.mark.parametrize(
    "form",
    [
        {"name": "Widget", "price": "-1", "owner": "1"},
        {"name": "Widget", "price": "nan", "owner": "1"},
        {"name": "Widget", "price": "inf", "owner": "1"},
        {"name": "Widget", "price": "cheap", "owner": "1"},
        {"name": "Widget", "owner": "1"},
        {"name": "", "price": "1", "owner": "1"},
        {"name": "W" * 101, "price": "1", "owner": "1"},
        {"name": "Widget", "description": "d" * 1001, "price": "1", "owner": "1"},
        {"name": "Widget", "price": "1"},
        {"name": "Widget", "price": "1", "owner": "999"},
        {"name": "Wid\x00get", "price": "1", "owner": "1"},
        {"name": "Widget", "description": "\x00", "price": "1", "owner": "1"},
    ],
    ids=[
        "negative-price",
        "nan-price",
        "infinite-price",
        "text-price",
        "no-price",
        "empty-name",
        "long-name",
        "long-description",
        "no-owner",
        "unknown-owner",
        "nul-in-name",
        "nul-in-description",
    ],
)
def test_invalid_items_are_refused_with_the_form_again(
    admin_client: AppClient, admin_token: str, db: Session, form: dict[str, str]
) -> None:
    response = post_form(admin_client, "/admin/item/create", form, admin_token)

    assert response.status_code == 422
    assert db.scalars(select(Item)).all() == []


def test_a_search_with_a_nul_character_is_refused_not_a_crash(
    admin_client: AppClient, admin_token: str
) -> None:
    create_item(admin_client, admin_token)

    response = admin_client.get("/admin/item/list", params={"q": "Wid\x00get"})

    assert response.status_code == 422


@pytest.mark.parametrize("token", [None, "", "forged-token"], ids=["missing", "empty", "wrong"])
def test_admin_forms_without_a_valid_csrf_token_are_refused(
    admin_client: AppClient, db: Session, token: str | None
) -> None:
    form = {"name": "Widget", "price": "1", "owner": "1"}
    if token is not None:
        form["csrf_token"] = token

    response = admin_client.post("/admin/item/create", data=form, follow_redirects=False)

    assert response.status_code == 403
    assert db.scalars(select(Item)).all() == []


def test_a_token_from_another_session_is_refused(
    admin_client: AppClient, other_client: AppClient, db: Session
) -> None:
    foreign_token = form_token(other_client, "/admin/login")
    form = {"name": "Widget", "price": "1", "owner": "1", "csrf_token": foreign_token}

    response = admin_client.post("/admin/item/create", data=form, follow_redirects=False)

    assert response.status_code == 403
    assert db.scalars(select(Item)).all() == []


def test_the_list_page_deletes_with_the_csrf_header(
    admin_client: AppClient, admin_token: str, db: Session
) -> None:
    create_item(admin_client, admin_token)
    list_page = admin_client.get("/admin/item/list")
    # Starlette-Admin's list page script sends the token from this cookie in a header.
    token = admin_client.cookies[SCRIPT_COOKIE]
    assert f'value="{token}"' in list_page.text
    delete = {"name": "delete", "pks": "1"}

    refused = admin_client.post("/admin/_api/item/action", params=delete)
    assert refused.status_code == 403
    assert db.scalars(select(Item)).all() != []

    response = admin_client.post(
        "/admin/_api/item/action", params=delete, headers={"X-CSRFToken": token}
    )

    assert response.status_code == 200, response.text
    assert db.scalars(select(Item)).all() == []


@pytest.mark.parametrize("pk", ["abc", "0", "-1", str(2**63), "99"])
def test_unknown_or_malformed_ids_are_not_found(admin_client: AppClient, pk: str) -> None:
    for page in ["detail", "edit"]:
        assert admin_client.get(f"/admin/item/{page}?pk={pk}").status_code == 404


def test_the_x_csrf_token_header_is_accepted_too(
    admin_client: AppClient, admin_token: str, db: Session
) -> None:
    form = {"name": "Widget", "price": "1", "owner": "1"}

    response = admin_client.post(
        "/admin/item/create",
        data=form,
        headers={"X-CSRF-Token": admin_token},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert len(db.scalars(select(Item)).all()) == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/admin/user/list"),
        ("GET", "/admin/item/list"),
        ("GET", "/admin/item/create"),
        ("GET", "/admin/no/such/page"),
        ("POST", "/admin/_api/item/action?name=delete&pks=1"),
    ],
)
def test_a_user_who_is_not_a_superuser_gets_403_everywhere(
    client: AppClient, make_user: MakeUser, log_in_admin: LogInAdmin, method: str, url: str
) -> None:
    token = log_in_admin(make_user("user@example.com")).csrf_token

    response = client.request(method, url, headers={"X-CSRFToken": token}, follow_redirects=False)

    assert response.status_code == 403
    assert '<form method="post" action="/admin/logout">' in response.text


def test_deactivating_a_user_ends_their_admin_session(admin_client: AppClient, db: Session) -> None:
    assert admin_client.get("/admin/", follow_redirects=False).status_code == 200
    user_by_email(db, "admin@example.com").is_active = False
    db.commit()

    assert_redirects_to(admin_client.get("/admin/", follow_redirects=False), LOGIN_URL)


def test_logging_in_again_gives_a_new_csrf_token(admin_client: AppClient, admin_token: str) -> None:
    before = admin_token
    admin_client.post("/admin/logout", data={"csrf_token": before})
    log_in(admin_client, "admin@example.com")

    assert form_token(admin_client, "/admin/item/create") != before


def test_the_admin_loads_nothing_from_other_sites(admin_client: AppClient) -> None:
    for url in ["/admin/login", "/admin/", "/admin/item/list", "/admin/item/create"]:
        page = admin_client.get(url).text
        hosts = set(re.findall(r"""(?:src|href)=["']?(?:https?:)?//([^/"'>]+)""", page))
        assert hosts <= {"testserver"}, url
        assert not re.search(r"""url\(\s*["']?(https?:)?//""", page), url
        assert "@import" not in page, url
