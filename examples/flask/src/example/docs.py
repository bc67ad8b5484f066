"""OpenAPI 3.1 at /openapi.json and Swagger UI at /docs, with no CDN.

flask-smorest's Swagger UI page loads its JavaScript and CSS from OPENAPI_SWAGGER_UI_URL;
pointing that at /docs/static/ and serving the files of the `swagger-ui-py` package there
keeps /docs working on a machine without internet.
"""

from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, send_from_directory
from flask_smorest import Api

from example.deps import SECURITY_SCHEME, SECURITY_SCHEME_NAME
from example.schemas import HTTPError

SWAGGER_UI_STATIC = Path(str(files("swagger_ui") / "static"))

CONFIG = {
    "API_TITLE": "Example",
    "API_VERSION": version("example"),
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/docs/static/",
    "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": True},
}

swagger_ui_assets = Blueprint("swagger_ui_assets", __name__, url_prefix="/docs/static")


@swagger_ui_assets.get("/<path:filename>")
def swagger_ui_asset(filename: str) -> Response:
    return send_from_directory(SWAGGER_UI_STATIC, filename)


def init_api(app: Flask) -> Any:
    """The app's flask-smorest Api (untyped: flask-smorest ships no type hints)."""
    app.config.update(CONFIG)
    api = Api()
    # Document errors as they are sent: {"detail": ...} (see errors.py).
    api.ERROR_SCHEMA = HTTPError
    api.init_app(app)
    api.spec.components.security_scheme(SECURITY_SCHEME_NAME, SECURITY_SCHEME)
    app.register_blueprint(swagger_ui_assets)
    return api
