"""``/docs``: Swagger UI from assets inside the package, and the OpenAPI schema's last touches.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, so on an air-gapped
operations network it is a blank page. The assets are vendored instead, from
``swagger-ui-dist`` (Swagger UI's own distribution on the npm registry;
``docker/swagger-ui.sh VERSION`` refreshes them): the PyPI wrappers either
carry a Swagger UI too old for the OpenAPI 3.1 FastAPI writes
(``swagger-ui-bundle``: 4.15) or wrap FastAPI itself. The online validator
badge is switched off, so the page asks nothing of any other host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from lbhealth.cluster.page import favicon_href

ASSETS = Path(__file__).with_name("swagger_ui")
ASSETS_URL = "/docs/assets"


def serve_docs(api: FastAPI) -> None:
    """Add ``/docs`` and its assets, and build ``/openapi.json`` with :func:`openapi_schema`."""
    api.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=api.openapi_url or "/openapi.json",
            title=f"{api.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=favicon_href(None),
            swagger_ui_parameters={"validatorUrl": None},
        )

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = openapi_schema(api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


def openapi_schema(api: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with HEAD's 422 documented as it is sent: without a body."""
    schema = get_openapi(
        title=api.title, version=api.version, description=api.description, routes=api.routes
    )
    for operations in schema["paths"].values():
        invalid = operations.get("head", {}).get("responses", {}).get("422")
        if invalid is not None:
            invalid.pop("content", None)
    return schema
