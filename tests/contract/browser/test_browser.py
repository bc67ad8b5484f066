"""What a person sees in a real browser, in both frameworks: the docs page and the admin.

Every test runs once per framework (the ``project`` fixture is parametrized). The two admins are
different libraries (Flask-Admin, Starlette-Admin), so the few things that differ in their
pages (URLs, the owner picker, the save button) sit in ``ADMIN_PAGES``; what the tests check
is the same for both.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect

from tests.contract.browser.conftest import Steps
from tests.contract.conftest import Credentials, Server

pytestmark = pytest.mark.browser

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@dataclass(frozen=True)
class AdminPages:
    """Where one admin library puts the item pages, and how its forms are driven."""

    item_list: str
    item_create: str
    # Clicking this opens the owner picker (both admins use a select2 widget).
    owner_picker: str
    owner_option: str
    save_button: str
    # Clicking this (if any) shows the logout button, a POST form with the CSRF token.
    user_menu: str | None
    logout_button: str


ADMIN_PAGES = {
    "flask": AdminPages(
        item_list="/admin/item/",
        item_create="/admin/item/new/",
        owner_picker="#s2id_owner a.select2-choice",
        owner_option=".select2-drop-active .select2-results li",
        save_button="form input[type=submit][value=Save]",
        user_menu=None,
        logout_button="Log out",
    ),
    "fastapi": AdminPages(
        item_list="/admin/item/list",
        item_create="/admin/item/create",
        owner_picker="#owner + .select2-container .select2-selection",
        owner_option=".select2-results__option",
        save_button="form[action$='/admin/item/create'] button.btn-primary[type=submit]",
        user_menu="[aria-label='Open user menu']:visible",
        logout_button="Logout",
    ),
}


def ok(response: Response | None) -> Response:
    assert response is not None, "the navigation produced no response"
    return response


def log_in(page: Page, who: Credentials) -> None:
    """Fill the admin's login form (reached from /admin/) and submit it."""
    ok(page.goto("/admin/"))
    page.locator("input[name=email]").fill(who.email)
    page.locator("input[name=password]").fill(who.password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").click()


def operations(openapi: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, item in openapi["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_docs_page_renders_every_operation_with_the_apps_own_assets(
    page: Page, steps: Steps, browser_server: Server, offsite_requests: list[str]
) -> None:
    with steps.step("openapi.json"):
        schema = page.request.get("/openapi.json")
        assert schema.status == 200, schema.text()
        expected = operations(schema.json())
        assert expected, "openapi.json lists no operation"

    assets: list[str] = []
    page.on("response", lambda response: assets.append(f"{response.status} {response.url}"))
    with steps.step("docs page"):
        assert ok(page.goto("/docs")).status == 200
        expect(page.locator(".swagger-ui .info .title")).to_be_visible()
        expect(page.locator(".swagger-ui .opblock")).to_have_count(len(expected))

    with steps.step("every operation listed"):
        shown = page.locator(".swagger-ui .opblock").evaluate_all(
            """blocks => blocks.map(block =>
                block.querySelector('.opblock-summary-method').textContent.trim() + ' ' +
                block.querySelector('.opblock-summary-path').getAttribute('data-path'))"""
        )
        assert set(shown) == expected
        assert len(shown) == len(expected), f"an operation is listed twice: {sorted(shown)}"

    with steps.step("assets served by the app"):
        assert offsite_requests == [], "the docs page loads files from elsewhere (a CDN?)"
        bundle = [line for line in assets if "swagger-ui-bundle.js" in line]
        assert bundle == [f"200 {browser_server.base_url}/docs/static/swagger-ui-bundle.js"], assets


def test_anonymous_admin_visitor_lands_on_the_login_page(page: Page, steps: Steps) -> None:
    with steps.step("admin redirects to login"):
        assert ok(page.goto("/admin/")).status == 200
        assert "/admin/login" in page.url
        expect(page.locator("input[name=email]")).to_be_visible()
        expect(page.locator("input[name=password]")).to_be_visible()
        expect(page.get_by_role("link", name="Items")).to_have_count(0)


def test_superuser_creates_an_item_through_the_admin_form(
    page: Page, steps: Steps, browser_server: Server
) -> None:
    admin = ADMIN_PAGES[browser_server.framework]
    superuser = browser_server.superuser
    name = f"Browser item {secrets.token_hex(4)}"

    with steps.step("log in as superuser"):
        log_in(page, superuser)
        assert "/admin/login" not in page.url
        expect(page.get_by_role("link", name="Items").first).to_be_visible()

    with steps.step("fill the item form"):
        assert ok(page.goto(admin.item_create)).status == 200
        page.locator("#name").fill(name)
        page.locator("#description").fill("Made in headless Chromium")
        page.locator("#price").fill("12.5")
        page.locator(admin.owner_picker).click()
        page.locator(admin.owner_option, has_text=superuser.email).click()

    with steps.step("save the item"):
        with page.expect_navigation():
            page.locator(admin.save_button).click()
        assert "/admin/login" not in page.url

    with steps.step("item in the admin list"):
        assert ok(page.goto(admin.item_list)).status == 200
        expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()

    with steps.step("item through the API"):
        response = page.request.get("/api/v1/items?limit=100")
        assert response.status == 200, response.text()
        items = [item for item in response.json()["items"] if item["name"] == name]
        assert len(items) == 1, response.json()
        assert items[0]["description"] == "Made in headless Chromium"
        assert items[0]["price"] == 12.5
        assert items[0]["owner_id"] == browser_server.user_id(superuser)
        ok(page.goto(f"/api/v1/items/{items[0]['id']}"))  # for the screenshot

    with steps.step("log out"):
        assert ok(page.goto(admin.item_list)).status == 200
        if admin.user_menu:
            page.locator(admin.user_menu).first.click()
        with page.expect_navigation():
            page.get_by_role("button", name=admin.logout_button, exact=True).click()
        assert "/admin/login" in page.url
        assert ok(page.goto(admin.item_list)).status == 200
        assert "/admin/login" in page.url, "still logged in after the logout button"


def test_normal_user_is_refused_by_the_admin(
    page: Page, steps: Steps, browser_server: Server
) -> None:
    admin = ADMIN_PAGES[browser_server.framework]

    with steps.step("log in as normal user"):
        log_in(page, browser_server.user)
        assert "/admin/login" not in page.url, "the login itself was refused"

    for path in ("/admin/", admin.item_list, admin.item_create):
        with steps.step(f"refused {path}"):
            assert ok(page.goto(path)).status == 403
            expect(page.locator("#name")).to_have_count(0)
            expect(page.get_by_role("cell")).to_have_count(0)

    with steps.step("log out from the refusal"):
        with page.expect_navigation():
            page.get_by_role("button", name="Log out", exact=True).click()
        assert "/admin/login" in page.url
        expect(page.locator("input[name=password]")).to_be_visible()
