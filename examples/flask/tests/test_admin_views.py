"""Flask-Admin's model views: superusers manage users and items through CSRF-protected forms.

(The login contract both flavors share is in test_admin.py.)
"""

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from example.models import User
from example.resources.items.model import Item
from example.security import verify_password
from tests.common import DEFAULT_PASSWORD, ApiClient, LogInAdmin, MakeUser
from tests.test_admin import LOGIN_URL, assert_redirects_to, attribute, csrf_token, inputs

ASSET_URL = re.compile(r"""<(?:link|script)\b[^>]*\b(?:href|src)=["']([^"']+)["']""", re.IGNORECASE)


@pytest.fixture
def admin_token(make_user: MakeUser, log_in_admin: LogInAdmin) -> str:
    """`client` logged in to the admin as a superuser (admin@example.com, user id 1), without
    the login form (test_admin.py tests it): the CSRF token of the session's model forms."""
    return log_in_admin(make_user("admin@example.com", is_superuser=True)).csrf_token


@pytest.fixture
def admin_client(client: ApiClient, admin_token: str) -> ApiClient:
    """`client`, logged in to the admin as a superuser (see `admin_token`)."""
    return client


def form_token(client: ApiClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    token = attribute(inputs(page.text)["csrf_token"], "value")
    assert token
    return token


def post_form(client: ApiClient, url: str, token: str, **form: str) -> Any:
    """POST an admin form, with the session's CSRF token."""
    return client.post(url, data={**form, "csrf_token": token})


def user_by_email(engine: Engine, email: str) -> User | None:
    with Session(engine) as session:
        return session.scalar(select(User).where(User.email == email))


def all_items(engine: Engine) -> list[Item]:
    with Session(engine) as session:
        return list(session.scalars(select(Item).order_by(Item.id)))


def test_a_superuser_creates_a_user_whose_password_is_hashed(
    admin_client: ApiClient, admin_token: str, engine: Engine
) -> None:
    response = post_form(
        admin_client,
        "/admin/user/new/",
        admin_token,
        email=" New@Example.com",
        password="n3w-pass-phrase",
        is_active="y",
    )

    assert_redirects_to(response, "/admin/user/")
    user = user_by_email(engine, "new@example.com")
    assert user is not None
    assert user.is_active
    assert not user.is_superuser
    assert user.hashed_password != "n3w-pass-phrase"
    assert verify_password("n3w-pass-phrase", user.hashed_password)
    pages = [
        "/admin/user/",
        f"/admin/user/details/?id={user.id}",
        f"/admin/user/edit/?id={user.id}",
        "/admin/user/new/",
    ]
    for url in pages:
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert user.hashed_password not in page.text, url
        assert "argon2" not in page.text, url
        assert "hashed_password" not in page.text.lower().replace(" ", "_"), url
    # The hash is not searchable: searching for it finds nobody.
    search = admin_client.get("/admin/user/", params={"search": user.hashed_password[:30]})
    assert search.status_code == 200
    assert "new@example.com" not in search.text
    assert "new@example.com" in admin_client.get("/admin/user/?search=new@").text


def test_editing_a_user_keeps_the_password_unless_a_new_one_is_given(
    admin_client: ApiClient, admin_token: str, make_user: MakeUser, engine: Engine
) -> None:
    user_id = make_user("ada@example.com", "old-pass-phrase")
    url = f"/admin/user/edit/?id={user_id}"

    post_form(
        admin_client,
        url,
        admin_token,
        email="ada@example.com",
        password="",
        is_active="y",
        is_superuser="y",
    )
    unchanged = user_by_email(engine, "ada@example.com")
    post_form(
        admin_client,
        url,
        admin_token,
        email="ada@example.com",
        password="new-pass-phrase",
        is_active="y",
    )
    changed = user_by_email(engine, "ada@example.com")

    assert unchanged is not None
    assert unchanged.is_superuser
    assert verify_password("old-pass-phrase", unchanged.hashed_password)
    assert changed is not None
    assert not changed.is_superuser
    assert verify_password("new-pass-phrase", changed.hashed_password)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("nopass@example.com", ""),
        ("not-an-e-mail", "a-pass-phrase"),
        ("short@example.com", "p" * 11),
        ("long@example.com", "p" * 129),
        ("nul\x00@example.com", "a-pass-phrase"),
    ],
    ids=["no-password", "bad-email", "short-password", "long-password", "nul-in-email"],
)
def test_invalid_new_users_are_not_created(
    admin_client: ApiClient, admin_token: str, engine: Engine, email: str, password: str
) -> None:
    response = post_form(
        admin_client, "/admin/user/new/", admin_token, email=email, password=password
    )

    assert response.status_code == 200
    with Session(engine) as session:
        assert session.scalars(select(User.email)).all() == ["admin@example.com"]


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("p" * 11, "The password must have at least 12 characters."),
        ("p" * 129, "The password must have at most 128 characters."),
    ],
)
def test_the_password_policy_is_a_form_error(
    admin_client: ApiClient,
    admin_token: str,
    make_user: MakeUser,
    engine: Engine,
    password: str,
    problem: str,
) -> None:
    user_id = make_user("ada@example.com", "old-pass-phrase")

    created = post_form(
        admin_client, "/admin/user/new/", admin_token, email="new@example.com", password=password
    )
    edited = post_form(
        admin_client,
        f"/admin/user/edit/?id={user_id}",
        admin_token,
        email="ada@example.com",
        password=password,
    )

    assert created.status_code == 200
    assert problem in created.text
    assert user_by_email(engine, "new@example.com") is None
    assert edited.status_code == 200
    assert problem in edited.text
    unchanged = user_by_email(engine, "ada@example.com")
    assert unchanged is not None
    assert verify_password("old-pass-phrase", unchanged.hashed_password)


def test_a_superuser_creates_and_edits_an_item(
    admin_client: ApiClient, admin_token: str, make_user: MakeUser, engine: Engine
) -> None:
    owner_id = make_user("owner@example.com")
    other_id = make_user("other@example.com")
    form_page = admin_client.get("/admin/item/new/").text
    assert f'<option value="{owner_id}">owner@example.com' in form_page

    created = post_form(
        admin_client,
        "/admin/item/new/",
        admin_token,
        name="Widget",
        description="",
        price="2.5",
        owner=str(owner_id),
    )
    [item] = all_items(engine)
    assert admin_client.get(f"/admin/item/edit/?id={item.id}").status_code == 200
    edited = post_form(
        admin_client,
        f"/admin/item/edit/?id={item.id}",
        admin_token,
        name="Gadget",
        description="Shiny",
        price="3",
        owner=str(other_id),
    )
    [after] = all_items(engine)

    assert_redirects_to(created, "/admin/item/")
    assert (item.name, item.description, item.price) == ("Widget", None, 2.5)
    assert item.owner_id == owner_id
    assert_redirects_to(edited, "/admin/item/")
    assert (after.name, after.description, after.price) == ("Gadget", "Shiny", 3.0)
    assert after.owner_id == other_id
    assert after.updated_at >= item.updated_at
    listing = admin_client.get("/admin/item/")
    assert "Gadget" in listing.text
    assert "other@example.com" in listing.text
    assert admin_client.get(f"/admin/item/details/?id={item.id}").status_code == 200


@pytest.mark.parametrize("price", ["-1", "nan", "inf", "", "cheap"])
def test_item_prices_must_be_finite_and_not_negative(
    admin_client: ApiClient, admin_token: str, make_user: MakeUser, engine: Engine, price: str
) -> None:
    owner_id = make_user("owner@example.com")

    response = post_form(
        admin_client,
        "/admin/item/new/",
        admin_token,
        name="Widget",
        price=price,
        owner=str(owner_id),
    )

    assert response.status_code == 200
    assert all_items(engine) == []


@pytest.mark.parametrize("field", ["name", "description"])
def test_item_text_with_a_nul_character_is_a_form_error(
    admin_client: ApiClient, admin_token: str, make_user: MakeUser, engine: Engine, field: str
) -> None:
    owner_id = make_user("owner@example.com")
    form = {"name": "Widget", "price": "1", "owner": str(owner_id), field: "Wid\x00get"}

    response = post_form(admin_client, "/admin/item/new/", admin_token, **form)

    assert response.status_code == 200
    # The API's own message (its rule for the field, resources/items/schemas.py).
    assert "String should match pattern &#39;^[^\\x00]*$&#39;" in response.text
    assert all_items(engine) == []


def test_a_search_with_a_nul_character_is_refused_not_a_crash(admin_client: ApiClient) -> None:
    response = admin_client.get("/admin/item/", params={"search": "Wid\x00get"})

    assert response.status_code == 422


def test_admin_forms_without_a_csrf_token_are_refused(
    admin_client: ApiClient, admin_token: str, make_user: MakeUser, engine: Engine
) -> None:
    owner_id = make_user("owner@example.com")
    fields = {"name": "Widget", "price": "1", "owner": str(owner_id)}

    no_token = admin_client.post("/admin/item/new/", data=fields)
    forged = admin_client.post("/admin/item/new/", data={**fields, "csrf_token": "1##forged"})
    assert no_token.status_code == 200
    assert forged.status_code == 200
    assert all_items(engine) == []

    post_form(admin_client, "/admin/item/new/", admin_token, **fields)
    [item] = all_items(engine)
    admin_client.post("/admin/item/delete/", data={"id": str(item.id), "url": "/admin/item/"})
    assert len(all_items(engine)) == 1
    admin_client.post(
        "/admin/item/delete/",
        data={"id": str(item.id), "csrf_token": admin_token},
    )
    assert all_items(engine) == []


def test_users_who_are_not_superusers_get_403_on_every_admin_view(
    client: ApiClient, make_user: MakeUser, log_in_admin: LogInAdmin
) -> None:
    user_id = make_user("user@example.com")
    log_in_admin(user_id)

    for url in ["/admin/", "/admin/user/", "/admin/item/new/", f"/admin/user/edit/?id={user_id}"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/user/delete/", data={"id": str(user_id)}).status_code == 403


def test_anonymous_visitors_come_back_to_the_page_they_asked_for(
    client: ApiClient, make_user: MakeUser
) -> None:
    make_user("admin@example.com", is_superuser=True)

    asked = client.get("/admin/item/?page=0")
    assert_redirects_to(asked, LOGIN_URL)
    login_url = asked.headers["Location"]
    response = client.post(
        login_url,
        data={
            "email": "admin@example.com",
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )

    assert response.headers["Location"] == "/admin/item/?page=0"


def test_a_login_never_redirects_off_the_admin(client: ApiClient, make_user: MakeUser) -> None:
    make_user("admin@example.com", is_superuser=True)
    form = {"email": "admin@example.com", "password": DEFAULT_PASSWORD}

    response = client.post(
        f"{LOGIN_URL}?next=https://evil.example/admin/",
        data={**form, "csrf_token": csrf_token(client)},
    )

    assert response.headers["Location"] == "/admin/"


def test_a_login_form_with_empty_fields_is_refused(client: ApiClient) -> None:
    response = client.post(LOGIN_URL, data={"email": "", "csrf_token": csrf_token(client)})

    assert response.status_code == 400
    assert "Enter your e-mail address and password." in response.text


def test_a_deactivated_superuser_loses_the_admin_at_once(
    admin_client: ApiClient, engine: Engine
) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(User).values(is_active=False))

    assert_redirects_to(admin_client.get("/admin/"), LOGIN_URL)


def test_admin_pages_load_only_local_assets(admin_client: ApiClient) -> None:
    assets = set()
    for url in [LOGIN_URL, "/admin/", "/admin/user/", "/admin/item/new/"]:
        assets |= set(ASSET_URL.findall(admin_client.get(url).text))

    assert assets
    for asset in assets:
        assert asset.startswith("/admin/static/"), asset
        assert admin_client.get(asset).status_code == 200, asset


@pytest.mark.parametrize(
    ("settings_overrides", "secure"),
    [({"environment": "production"}, True), ({}, False)],
    ids=["production", "testing"],
)
def test_the_session_cookie_is_secure_in_production(app: Flask, secure: bool) -> None:
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
