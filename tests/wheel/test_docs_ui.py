"""The API docs page works offline: every asset it loads is served by the app itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from service.settings import Settings

ASSET_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:"))
    with TestClient(app) as test_client:
        yield test_client


def _assets(client: TestClient[Litestar], page: str) -> list[str]:
    response = client.get(page)
    assert response.status_code == 200, page
    return ASSET_ATTRIBUTE.findall(response.text)


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"], ids=["root", "swagger"])
def test_docs_page_loads_only_same_origin_assets(client: TestClient[Litestar], page: str) -> None:
    """No script, stylesheet or icon of the docs page names another host or scheme."""
    assets = _assets(client, page)
    foreign = [url for url in assets if urlsplit(url).netloc or urlsplit(url).scheme]
    assert (len(assets) >= 3, foreign) == (True, [])


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"], ids=["root", "swagger"])
def test_every_docs_asset_answers_200(client: TestClient[Litestar], page: str) -> None:
    """Each asset the page references is served (200, non-empty) by the app."""
    statuses = {url: client.get(url) for url in _assets(client, page)}
    assert {url: r.status_code for url, r in statuses.items() if r.status_code != 200} == {}
    assert all(r.content for r in statuses.values())


def test_docs_assets_are_not_api_operations(client: TestClient[Litestar]) -> None:
    """The asset route stays out of the OpenAPI document."""
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert [path for path in paths if path.startswith("/schema")] == []
