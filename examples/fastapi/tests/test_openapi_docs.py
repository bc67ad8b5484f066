import re

from tests.common import ApiClient

CONTRACT_OPERATIONS = {
    ("get", "/health"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/users/me"),
    ("get", "/api/v1/items"),
    ("post", "/api/v1/items"),
    ("get", "/api/v1/items/{item_id}"),
    ("patch", "/api/v1/items/{item_id}"),
    ("delete", "/api/v1/items/{item_id}"),
}
PROTECTED = {
    ("get", "/api/v1/users/me"),
    ("post", "/api/v1/items"),
    ("patch", "/api/v1/items/{item_id}"),
    ("delete", "/api/v1/items/{item_id}"),
}


def test_openapi_describes_every_contract_operation(client: ApiClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    operations = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations >= CONTRACT_OPERATIONS


def test_openapi_declares_the_bearer_scheme_on_protected_operations(client: ApiClient) -> None:
    spec = client.get("/openapi.json").json()

    scheme = spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"].endswith("/api/v1/auth/token")
    for method, path in PROTECTED:
        security = spec["paths"][path][method].get("security", [])
        assert {"OAuth2PasswordBearer": []} in security, (method, path)


def test_docs_page_loads_its_assets_from_the_app_itself(client: ApiClient) -> None:
    page = client.get("/docs")

    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page.text)
    assert assets, page.text
    for asset in assets:
        assert asset.startswith("/"), f"{asset} would need the internet"
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 1000, asset
