"""Protection: body size (413), the computing endpoints' rate limit (429), bounded inputs."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.contract.schemas import InspectRequest, LatencyRequest, MaxBatchRequest, PlanRequest
from service.domain.hf_config import MAX_LAYERS
from tests.api.conftest import assert_problem
from tests.db.conftest import TINY_LLAMA_CONFIG, CatalogWriter
from tests.ops.conftest import ops_settings

pytestmark = pytest.mark.anyio

INSPECT = {"model": {"hf_config": TINY_LLAMA_CONFIG}}


def app_with(tmp_path: Path, catalog: Path, **changes: Any) -> AsyncTestClient[Any]:
    settings = ops_settings(f"sqlite+aiosqlite:///{tmp_path}/t.db", catalog, **changes)
    return AsyncTestClient(app=create_app(settings))


async def test_oversized_body_is_413_problem(tmp_path: Path, write_catalog: CatalogWriter) -> None:
    """A body over CAPPLAN_MAX_BODY_BYTES is refused with 413 problem+json."""
    body = b'{"model": "' + b"x" * 4096 + b'"}'
    async with app_with(tmp_path, write_catalog(), max_body_bytes=1024) as client:
        response = await client.post(
            "/v1/inspect", content=body, headers={"content-type": "application/json"}
        )
    assert_problem(response, 413)


async def test_rate_limit_answers_429_with_retry_after(
    tmp_path: Path, write_catalog: CatalogWriter
) -> None:
    """Past the per-minute budget a computing endpoint answers 429 problem+json, Retry-After."""
    async with app_with(tmp_path, write_catalog(), rate_limit_per_minute=2) as client:
        statuses = [(await client.post("/v1/inspect", json=INSPECT)).status_code for _ in range(2)]
        refused = await client.post("/v1/inspect", json=INSPECT)

    assert statuses == [200, 200]
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-remaining"] == "0"


async def test_rate_limit_is_shared_by_the_computing_endpoints(
    tmp_path: Path, write_catalog: CatalogWriter
) -> None:
    """One budget covers /v1/inspect, /v1/max-batch, /v1/latency and /v1/plan."""
    max_batch = {**INSPECT, "gpu": "l4", "context_length": 1024}
    async with app_with(tmp_path, write_catalog(), rate_limit_per_minute=1) as client:
        first = await client.post("/v1/inspect", json=INSPECT)
        second = await client.post("/v1/max-batch", json=max_batch)
    assert (first.status_code, second.status_code) == (200, 429)


async def test_rate_limit_spares_other_endpoints(
    tmp_path: Path, write_catalog: CatalogWriter
) -> None:
    """Catalog reads, health and metrics are not limited."""
    async with app_with(tmp_path, write_catalog(), rate_limit_per_minute=1) as client:
        await client.post("/v1/inspect", json=INSPECT)
        others = [
            (await client.get(path)).status_code
            for path in ("/v1/gpus", "/v1/gpus/l4", "/health", "/ready", "/metrics") * 2
        ]
    assert set(others) == {200}


async def test_rate_limit_zero_turns_it_off(tmp_path: Path, write_catalog: CatalogWriter) -> None:
    """CAPPLAN_RATE_LIMIT_PER_MINUTE=0 (the contract tests' setting) never answers 429."""
    async with app_with(tmp_path, write_catalog(), rate_limit_per_minute=0) as client:
        statuses = {(await client.post("/v1/inspect", json=INSPECT)).status_code for _ in range(30)}
    assert statuses == {200}


@pytest.mark.parametrize("nested", [False, True], ids=["top-level", "text_config"])
async def test_inline_config_with_too_many_layers_is_400(
    tmp_path: Path, write_catalog: CatalogWriter, nested: bool
) -> None:
    """A config declaring a billion layers is refused before any per-layer work is done."""
    config = copy.deepcopy(TINY_LLAMA_CONFIG)
    config["num_hidden_layers"] = 10**9
    key = "model.hf_config.num_hidden_layers"
    if nested:
        config = {"model_type": "llava", "text_config": config}
        key = "model.hf_config.text_config.num_hidden_layers"
    async with app_with(tmp_path, write_catalog()) as client:
        response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})
    problem = assert_problem(response, 400)
    assert [error["key"] for error in problem["errors"]] == [key]
    assert str(MAX_LAYERS) in problem["detail"]


def unbounded(info: msgspec.inspect.Type, path: str) -> Iterator[str]:
    """Paths of numeric fields without an upper bound, through structs, lists and unions."""
    if isinstance(info, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        if info.le is None and info.lt is None:
            yield path
    elif isinstance(info, msgspec.inspect.StructType):
        for field in info.fields:
            yield from unbounded(field.type, f"{path}.{field.name}")
    elif isinstance(info, msgspec.inspect.UnionType):
        for arm in info.types:
            yield from unbounded(arm, path)
    elif isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        yield from unbounded(info.item_type, f"{path}[]")


@pytest.mark.parametrize("body", [InspectRequest, MaxBatchRequest, LatencyRequest, PlanRequest])
def test_every_numeric_input_is_bounded(body: type[msgspec.Struct]) -> None:
    """Context lengths, batches, token counts, GPU counts and degrees all have a maximum."""
    assert list(unbounded(msgspec.inspect.type_info(body), body.__name__)) == []
