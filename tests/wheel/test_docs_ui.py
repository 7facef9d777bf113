"""The API docs pages load pinned UI bundles, never ``@latest`` or a branch."""

from __future__ import annotations

import re

import pytest
from litestar.openapi.plugins import OpenAPIRenderPlugin

from service.app import create_app
from service.settings import Settings

PINNED = re.compile(r"@\d+\.\d+\.\d+(/|$)")


def _asset_urls() -> list[str]:
    config = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:")).openapi_config
    assert config is not None
    urls: list[str] = []
    for plugin in config.render_plugins:
        assert isinstance(plugin, OpenAPIRenderPlugin)
        urls += [
            str(value)
            for name, value in vars(plugin).items()
            if name.endswith("_url") and isinstance(value, str) and value.startswith("http")
        ]
    return urls


@pytest.mark.parametrize("url", _asset_urls())
def test_every_docs_asset_is_a_pinned_version(url: str) -> None:
    """Each script and stylesheet URL names an exact x.y.z version."""
    assert PINNED.search(url), url
