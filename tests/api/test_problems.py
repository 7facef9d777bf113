"""Every error is RFC 9457 application/problem+json, and none leaks a stack trace."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.api.conftest import ADMIN, assert_problem, gpu_body, settings_for

pytestmark = pytest.mark.anyio

# (method, path, body, headers, status): one request per kind of error the API gives.
ERRORS: list[tuple[str, str, Any, dict[str, str], int]] = [
    ("POST", "/v1/plan", {"model": "meta-llama/Llama-3.1-8B"}, {}, 400),
    ("POST", "/v1/gpus", gpu_body(), {}, 401),
    ("GET", "/v1/gpus/nope", None, {}, 404),
    ("POST", "/v1/inspect", {"model": "nobody/nothing"}, {}, 404),
    ("GET", "/v2/anything", None, {}, 404),
    ("DELETE", "/v1/plan", None, {}, 405),
    ("POST", "/v1/gpus", gpu_body("h100-sxm"), ADMIN, 409),
    ("POST", "/v1/inspect", {"model": {"hf_config": {"model_type": "mamba"}}}, {}, 422),
]
ERROR_IDS = ["400", "401", "404-gpu", "404-model", "404-route", "405", "409", "422"]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status"), ERRORS, ids=ERROR_IDS)
async def test_error_is_problem_json(
    client: AsyncTestClient[Litestar],
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    status: int,
) -> None:
    """The response is application/problem+json with type, title, status (and the status code)."""
    response = await client.request(method, path, json=body, headers=headers)
    problem = assert_problem(response, status)
    assert set(problem) <= {"type", "title", "status", "detail", "errors"}


async def test_method_not_allowed_lists_the_allowed_methods(
    client: AsyncTestClient[Litestar],
) -> None:
    """A 405 carries an Allow header naming the route's methods."""
    response = await client.delete("/v1/plan")
    assert_problem(response, 405)
    assert "POST" in response.headers["allow"]


async def test_unhandled_error_is_500_without_a_trace(db_url: str) -> None:
    """A bug inside a handler is a bare 500 problem: no exception text, type or traceback."""

    @get("/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    app = create_app(settings_for(db_url))
    app.register(boom)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/boom")
    problem = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert problem["detail"] == "internal error; see the service log"


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (b"", "body", "the request body is empty"),
        (b"{}", "model", "missing required field `model`"),
        (b"[]", "body", "Expected `object`"),
    ],
    ids=["empty", "missing-field", "not-an-object"],
)
async def test_top_level_body_error_names_the_field_not_the_parameter(
    client: AsyncTestClient[Litestar], body: bytes, key: str, message: str
) -> None:
    """A body error at the top names the missing field, or the body: never Litestar's 'data'."""
    response = await client.post(
        "/v1/latency", content=body, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 400)
    assert [(e["key"], message in e["message"]) for e in problem["errors"]] == [(key, True)]


LLAMA_8B = "meta-llama/Llama-3.1-8B"
LONG_ID = "x" * 500_000
RUN: dict[str, Any] = {"gpu": "h100-sxm", "input_tokens": 128, "output_tokens": 128}
WORKLOAD: dict[str, Any] = {"input_tokens": 128, "output_tokens": 128}
DRAFT: dict[str, Any] = {"method": "draft_model", "draft_tokens": 2, "acceptance_rate": 0.5}
# (path, body, the field naming the id): every body field that takes a model id.
OVERLONG_IN_BODIES: list[tuple[str, dict[str, Any], str]] = [
    ("/v1/inspect", {"model": LONG_ID}, "model"),
    ("/v1/max-batch", {"model": LONG_ID, "gpu": "h100-sxm", "context_length": 1024}, "model"),
    ("/v1/latency", {"model": LONG_ID, "batch_size": 1, **RUN}, "model"),
    ("/v1/plan", {"model": LONG_ID, "workload": WORKLOAD}, "model"),
    ("/v1/frontier", {"model": LONG_ID, **RUN}, "model"),
    (
        "/v1/latency",
        {
            "model": LLAMA_8B,
            "batch_size": 1,
            **RUN,
            "speculative": {**DRAFT, "draft_model": LONG_ID},
        },
        "speculative.draft_model",
    ),
    (
        "/v1/plan",
        {
            "model": LLAMA_8B,
            "workload": {**WORKLOAD, "speculative": {**DRAFT, "draft_model": LONG_ID}},
        },
        "workload.speculative.draft_model",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    OVERLONG_IN_BODIES,
    ids=["inspect", "max-batch", "latency", "plan", "frontier", "latency-draft", "plan-draft"],
)
async def test_an_overlong_model_id_in_a_body_is_a_400_naming_its_field(
    client: AsyncTestClient[Litestar], path: str, body: dict[str, Any], field: str
) -> None:
    """A model id past 200 characters (no Hugging Face id nears it) is refused before any
    lookup: 400 naming the field, a short answer."""
    response = await client.post(path, json=body)
    problem = assert_problem(response, 400)
    assert [(e["key"], e["source"]) for e in problem["errors"]] == [(field, "body")]
    assert len(response.content) < 2_000


@pytest.mark.parametrize(
    ("path", "source", "field"),
    [
        (f"/v1/models/org/{'x' * 197}", "path", "model_id"),
        (
            f"/v1/frontier.svg?model={'x' * 10_000}&gpu=l4&input_tokens=1&output_tokens=1",
            "query",
            "model",
        ),
    ],
    ids=["model-path", "svg-query"],
)
async def test_an_overlong_model_id_in_a_url_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], path: str, source: str, field: str
) -> None:
    """A model id past 200 characters in a path or query is a 400 naming the parameter."""
    response = await client.get(path)
    problem = assert_problem(response, 400)
    assert [(e["key"], e["source"]) for e in problem["errors"]] == [(field, source)]
    assert len(response.content) < 2_000


async def test_a_model_id_of_200_characters_is_looked_up(
    client: AsyncTestClient[Litestar],
) -> None:
    """The bound is inclusive: a 200-character id is a plain 404 (not in the catalog)."""
    response = await client.get(f"/v1/models/org/{'x' * 196}")
    assert "not in the catalog" in assert_problem(response, 404)["detail"]
