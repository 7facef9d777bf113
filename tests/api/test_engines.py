"""The engine is part of the question: the ``engine`` field, the echo, and GET /v1/engines."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.catalog_files import load_engine_profiles
from tests.api.conftest import CATALOG_DIR, assert_problem, error_keys

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
MAX_BATCH = {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 8192}
LATENCY = {
    "model": LLAMA_8B,
    "gpu": "h100-sxm",
    "batch_size": 4,
    "input_tokens": 1000,
    "output_tokens": 100,
}
PLAN = {
    "model": LLAMA_8B,
    "workload": {"input_tokens": 1000, "output_tokens": 200, "concurrency": 4},
    "constraints": {"gpus": ["h100-sxm"], "weight_dtypes": ["bf16"]},
}
FRONTIER = {"model": LLAMA_8B, "gpu": "h100-sxm", "input_tokens": 1000, "output_tokens": 100}
ROUTES = [
    ("/v1/max-batch", MAX_BATCH),
    ("/v1/latency", LATENCY),
    ("/v1/plan", PLAN),
    ("/v1/frontier", FRONTIER),
]
ROUTE_IDS = ["max-batch", "latency", "plan", "frontier"]

ENGINE_ANSWERS = [
    ({}, "vllm", "0.24.0"),
    ({"engine": "vllm"}, "vllm", "0.24.0"),
    ({"engine": "vllm==0.19.0"}, "vllm", "0.19.0"),
    ({"engine": "vllm==0.6.4"}, "vllm", "0.6.4"),
    ({"engine": "sglang"}, "sglang", "0.5.3"),
    ({"engine": "trtllm"}, "trtllm", "1.0.0"),
]


@pytest.mark.parametrize(
    ("extra", "engine", "version"),
    ENGINE_ANSWERS,
    ids=["default", "vllm", "vllm-pinned", "vllm-v0", "sglang", "trtllm"],
)
async def test_max_batch_echoes_the_engine_and_the_sequence_bytes(
    client: AsyncTestClient[Litestar], extra: dict[str, Any], engine: str, version: str
) -> None:
    """The engine field picks the profile; the answer names engine and version and the KV
    bytes one sequence takes on one GPU (8,192 tokens x 131,072 B: whole pages everywhere)."""
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, **extra})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["engine"], answer["engine_version"]) == (engine, version)
    assert answer["kv_cache_bytes_per_sequence"] == 8192 * 131_072


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=ROUTE_IDS)
async def test_every_computing_route_echoes_the_engine(
    client: AsyncTestClient[Litestar], path: str, body: dict[str, Any]
) -> None:
    """engine "sglang" on each computing endpoint: answered with SGLang's newest profile."""
    response = await client.post(path, json={**body, "engine": "sglang"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["engine"], answer["engine_version"]) == ("sglang", "0.5.3")


@pytest.mark.parametrize(("path", "body"), ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("engine", ["tgi", "vllm==0.7.0", "sglang==9.9"], ids=["name", "v", "s"])
async def test_unknown_engine_is_400_naming_the_field_and_the_known_ones(
    client: AsyncTestClient[Litestar], path: str, body: dict[str, Any], engine: str
) -> None:
    """An engine or version without a profile is refused with the accepted values."""
    problem = assert_problem(await client.post(path, json={**body, "engine": engine}), 400)
    assert "engine" in error_keys(problem)
    assert "vllm==0.19.0" in problem["detail"]
    assert "sglang" in problem["detail"]


async def test_max_model_len_is_a_request_field(client: AsyncTestClient[Litestar]) -> None:
    """max_model_len separate from the context asked about: V1's budget does not move."""
    short = await client.post("/v1/max-batch", json={**MAX_BATCH, "max_model_len": 8192})
    long = await client.post("/v1/max-batch", json={**MAX_BATCH, "max_model_len": 32_768})
    assert short.status_code == long.status_code == 200
    assert short.json()["memory"] == long.json()["memory"]


async def test_engines_are_listed_with_their_sources(client: AsyncTestClient[Litestar]) -> None:
    """GET /v1/engines: every profile, how to name it, its sources and validation logs."""
    response = await client.get("/v1/engines")
    assert response.status_code == 200, response.text
    listing = response.json()
    by_id = {e["id"]: e for e in listing["engines"]}
    assert listing["default"] == "vllm-0.24.0"
    assert by_id["vllm-0.24.0"]["default"] is True
    assert by_id["vllm-0.19.0"]["request_as"] == "vllm==0.19.0"
    assert by_id["sglang-0.5.3"]["newest_of_engine"] is True
    assert all(e["sources"] for e in listing["engines"])
    assert "vllm-llmdplanner-llama31-8b-tp1-h100" in by_id["vllm-0.19.0"]["validated_against"]


async def test_engines_show_their_eager_prefill_host_figures(
    client: AsyncTestClient[Litestar],
) -> None:
    """GET /v1/engines shows each profile's host figures as the catalog holds them."""
    response = await client.get("/v1/engines")
    assert response.status_code == 200, response.text
    by_id = {e["id"]: e for e in response.json()["engines"]}
    for engine_id in ("sglang-0.5.3", "vllm-0.24.0"):
        held = load_engine_profiles().get(engine_id).eager_prefill
        shown = by_id[engine_id]["eager_prefill"]
        assert shown == {
            "dense_layer_us": held.dense_layer_us,
            "moe_layer_us": held.moe_layer_us,
        }
    assert by_id["sglang-0.5.3"]["eager_prefill"]["moe_layer_us"] > 0


@pytest.mark.parametrize("model", [LLAMA_8B, "openai/gpt-oss-20b"], ids=["uniform", "hybrid"])
async def test_max_batch_divides_the_pool_by_the_sequence_pages(
    client: AsyncTestClient[Litestar], model: str
) -> None:
    """max_batch = pool // pages per sequence, also under the hybrid allocator (gpt-oss)."""
    response = await client.post("/v1/max-batch", json={**MAX_BATCH, "model": model})
    assert response.status_code == 200, response.text
    answer = response.json()
    per_sequence = answer["kv_cache_bytes_per_sequence"]
    assert answer["max_batch"] == answer["kv_cache_pool_bytes"] // per_sequence
    assert answer["kv_cache_pool_bytes"] <= answer["memory"]["kv_cache"]


def ttft_band(calibrated: bool, engine_kind: str) -> dict[str, Any]:
    """The engine kind's TTFT band in ``catalog/calibration.yaml``."""
    document = yaml.safe_load((CATALOG_DIR / "calibration.yaml").read_text(encoding="utf-8"))
    table = document["error_bands"]["calibrated" if calibrated else "extrapolated"]
    return dict(table[f"prefill time ({engine_kind})"])


@pytest.mark.parametrize(("path", "body"), ROUTES[1:3], ids=ROUTE_IDS[1:3])
async def test_sglang_and_trtllm_answers_get_their_own_engines_ttft_range(
    client: AsyncTestClient[Litestar], path: str, body: dict[str, Any]
) -> None:
    """One question on SGLang and on TensorRT-LLM: each TTFT range is value x its engine's
    calibration.yaml band, so the two ranges differ in width."""
    widths = {}
    for engine in ("sglang", "trtllm"):
        response = await client.post(path, json={**body, "engine": engine})
        assert response.status_code == 200, response.text
        answer = response.json()
        if path == "/v1/plan":
            answer = answer["configurations"][0]
        ttft = answer["confidence"]["ttft_ms"]
        band = ttft_band(answer["calibrated"], engine)
        assert ttft["basis"] == band["basis"]
        assert ttft["high"] / ttft["value"] == pytest.approx(band["high"])
        widths[engine] = ttft["high"] / ttft["value"]
    assert widths["sglang"] != widths["trtllm"]
