"""Query strings of the list routes: an unknown or repeated parameter is a 400 naming it, as on
GET /v1/frontier.svg; a long value is quoted short in the problem."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem

pytestmark = pytest.mark.anyio

LIST_ROUTES = ["/v1/gpus", "/v1/models", "/v1/imports"]


@pytest.mark.parametrize(
    ("path", "query", "key"),
    [
        ("/v1/gpus", "min_memory=80", "min_memory"),
        ("/v1/models", "type=llama", "type"),
        ("/v1/imports", "state=queued", "state"),
    ],
    ids=["gpus", "models", "imports"],
)
async def test_an_unknown_parameter_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], path: str, query: str, key: str
) -> None:
    """A misspelt filter is refused, not silently ignored (which listed everything)."""
    problem = assert_problem(await client.get(f"{path}?{query}"), 400)
    assert [(e["key"], e["source"]) for e in problem["errors"]] == [(key, "query")]
    assert "unknown parameter" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "query", "key"),
    [
        ("/v1/gpus", "vendor=nvidia&vendor=amd", "vendor"),
        ("/v1/models", "origin=seed&origin=hub", "origin"),
        ("/v1/imports", "limit=1&limit=2", "limit"),
    ],
    ids=["gpus", "models", "imports"],
)
async def test_a_repeated_parameter_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], path: str, query: str, key: str
) -> None:
    """A parameter given twice is refused, not read as its last value."""
    problem = assert_problem(await client.get(f"{path}?{query}"), 400)
    assert [(e["key"], e["message"]) for e in problem["errors"]] == [(key, "given more than once")]


@pytest.mark.parametrize("path", LIST_ROUTES, ids=["gpus", "models", "imports"])
async def test_the_documented_parameters_are_accepted(
    client: AsyncTestClient[Litestar], path: str
) -> None:
    """Every query parameter the OpenAPI documents for the route is taken."""
    schema = (await client.get("/schema/openapi.json")).json()
    documented = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
    values = {"limit": "1", "offset": "0", "min_memory_bytes": "1", "status": "queued"}
    values |= {"vendor": "nvidia", "model_type": "llama", "origin": "seed"}
    response = await client.get(path, params={name: values[name] for name in documented})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "url",
    [f"/v1/gpus?vendor={'a' * 60_000}", f"/v1/gpus/{'a' * 60_000}", f"/v1/gpus?{'a' * 60_000}=1"],
    ids=["query-value", "path-segment", "query-key"],
)
async def test_a_long_value_is_quoted_short(client: AsyncTestClient[Litestar], url: str) -> None:
    """A 60,000-character value is quoted as its first 200 characters and its length, in
    ``detail`` and ``errors``: the problem stays small."""
    response = await client.get(url)
    problem = assert_problem(response, 400)
    assert "a" * 200 + "… (60,000 characters)" in problem["detail"]
    assert "a" * 201 not in response.text
    assert len(response.content) < 2_000
