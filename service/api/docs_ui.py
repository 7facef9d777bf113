"""The API docs page (Swagger UI at /schema) with its assets served by the app itself.

The bundle comes from the ``swagger-ui-py`` package (its ``static/`` folder, Swagger UI 5.x,
which reads OpenAPI 3.1): the page needs no internet and loads exactly the version locked in
uv.lock, never a CDN's ``@latest``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

#: Where the docs page finds its scripts, stylesheet and icon (same origin as the API).
DOCS_ASSETS_PATH = "/schema/static"


def swagger_assets_dir() -> Path:
    """The installed ``swagger_ui/static`` folder (swagger-ui-bundle.js, swagger-ui.css, ...)."""
    return Path(str(files("swagger_ui").joinpath("static")))


def docs_assets_router() -> Router:
    """GET /schema/static/{file}: the Swagger UI bundle, not in the OpenAPI document."""
    return create_static_files_router(
        path=DOCS_ASSETS_PATH,
        directories=[swagger_assets_dir()],
        include_in_schema=False,
        name="docs_assets",
    )


def swagger_ui_plugin() -> SwaggerRenderPlugin:
    """Swagger UI at /schema (and /schema/swagger), every asset from DOCS_ASSETS_PATH."""
    return SwaggerRenderPlugin(
        js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{DOCS_ASSETS_PATH}/favicon-32x32.png'>",
        path=["/", "/swagger"],
    )
