"""Security headers (API-CONTRACT.md, "Hardening"), the same in both flavors."""

import re
from typing import Any

import pytest

from tests.common import ApiClient, LogInAdmin, MakeUser

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]+)'")
ADMIN_ITEM_LIST = "/admin/item/list"
STYLESHEET = re.compile(r'<link\b[^>]*href="[^"]*?(/admin/static/[^"?]+\.css)')


def policy(response: Any) -> dict[str, str]:
    """The Content-Security-Policy's directives: {name: sources}."""
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: sources[0] if sources else "" for name, *sources in directives}


def assert_page_headers(response: Any) -> None:
    """Not framed, and only the app's own files and its nonce'd scripts run."""
    assert response.headers["X-Frame-Options"] == "DENY"
    directives = policy(response)
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    script_src = directives["script-src"]
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "http" not in " ".join(directives.values()), directives
    [nonce] = NONCE.findall(script_src)
    # Every script the page holds runs with the nonce; an inline one without it would not.
    scripts = SCRIPT_TAG.findall(response.text)
    for tag in scripts:
        if "src=" not in tag:
            assert f'nonce="{nonce}"' in tag, tag


@pytest.mark.parametrize(
    "path", ["/health", "/api/v1/items", "/api/v1/items/0", "/openapi.json", "/no-such-page"]
)
def test_every_response_has_nosniff(client: ApiClient, path: str) -> None:
    response = client.get(path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers
    assert "Strict-Transport-Security" not in response.headers  # ENVIRONMENT=testing


def test_error_responses_have_nosniff_too(client: ApiClient) -> None:
    response = client.post("/api/v1/items", content=b"x" * (1024 * 1024 + 1))

    assert response.status_code == 413
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("settings_overrides", [{"environment": "production"}])
def test_production_responses_have_strict_transport_security(client: ApiClient) -> None:
    response = client.get("/health")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_docs_page_cannot_be_framed_and_runs_only_its_own_scripts(client: ApiClient) -> None:
    first = client.get("/docs")
    second = client.get("/docs")

    assert first.status_code == 200
    assert_page_headers(first)
    assert re.search(r"<script\b[^>]*\bnonce=", first.text), "the inline settings script"
    assert NONCE.findall(policy(first)["script-src"]) != NONCE.findall(
        policy(second)["script-src"]
    ), "a nonce is used once"
    assert "no-store" not in first.headers.get("Cache-Control", "")


def test_token_response_is_not_stored(client: ApiClient, make_user: MakeUser) -> None:
    make_user("ada@example.com")

    response = client.post(
        "/api/v1/auth/token",
        data={"username": "ada@example.com", "password": "correct horse battery staple"},
    )

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/admin/login", "/admin/"])
def test_admin_pages_cannot_be_framed_nor_stored(client: ApiClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)

    assert_page_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_admin_static_files_are_cached_as_usual(client: ApiClient) -> None:
    stylesheets = STYLESHEET.findall(client.get("/admin/login").text)
    assert stylesheets

    response = client.get(stylesheets[0])

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_admin_pages_scripts_carry_the_nonce(
    client: ApiClient, make_user: MakeUser, log_in_admin: LogInAdmin
) -> None:
    log_in_admin(make_user("root@example.com", is_superuser=True))

    for path in ("/admin/", ADMIN_ITEM_LIST):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 200, path
        assert_page_headers(page)
        assert re.search(r"<script\b[^>]*\bnonce=", page.text), path
