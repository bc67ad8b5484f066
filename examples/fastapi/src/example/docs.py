"""/docs: Swagger UI with its assets served by the app itself (no CDN: works offline).

The assets come from the `swagger-ui-py` package (`swagger_ui/static/`), mounted at
/docs/static/.
"""

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from example.headers import csp_nonce

STATIC_URL = "/docs/static"


def add_docs(app: FastAPI, *, url: str = "/docs") -> None:
    app.mount(STATIC_URL, StaticFiles(packages=[("swagger_ui", "static")]), name="docs-static")

    page = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} - API docs",
        swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_URL}/favicon-32x32.png",
        # The page Swagger UI returns to after an OAuth2 authorization redirect.
        oauth2_redirect_url=f"{STATIC_URL}/oauth2-redirect.html",
    )
    # The page is the same for every request but for the nonce of its one inline script
    # (Swagger UI's settings), which the Content-Security-Policy names (headers.py).
    before, _, after = bytes(page.body).decode().partition("<script>")

    @app.get(url, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(f'{before}<script nonce="{csp_nonce()}">{after}')
