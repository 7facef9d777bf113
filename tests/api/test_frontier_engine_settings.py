"""POST /v1/frontier and GET /v1/frontier.svg take /v1/latency's engine settings."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, error_keys

pytestmark = pytest.mark.anyio


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "model": "meta-llama/Llama-3.1-8B",
        "gpu": "h100-sxm",
        "input_tokens": 2000,
        "output_tokens": 500,
        **overrides,
    }


async def curve(client: AsyncTestClient[Litestar], question: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/frontier", json=question)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
async def test_max_num_seqs_caps_the_batch_where_the_curve_saturates(
    client: AsyncTestClient[Litestar], engine: str
) -> None:
    """16 sequences at once: max_batch 16, saturated on it, and less throughput at the top."""
    plain = await curve(client, body(engine=engine))
    capped = await curve(client, body(engine=engine, max_num_seqs=16))
    assert plain["max_batch"] > 16
    assert capped["max_batch"] == 16
    assert capped["saturation_limit"] == "max_batch"
    assert capped["max_output_tokens_per_s"] < plain["max_output_tokens_per_s"]


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
async def test_max_num_batched_tokens_is_the_step_budget(
    client: AsyncTestClient[Litestar], engine: str
) -> None:
    """The step budget the answer reports is the one asked for (SGLang's chunk size)."""
    plain = await curve(client, body(engine=engine))
    asked = await curve(client, body(engine=engine, max_num_batched_tokens=1024))
    assert plain["step_tokens"] != 1024
    assert asked["step_tokens"] == 1024


async def test_a_smaller_kv_cache_holds_fewer_sequences(client: AsyncTestClient[Litestar]) -> None:
    """vLLM V1 --kv-cache-memory-bytes of 2 GB: the batch shrinks to what it holds."""
    plain = await curve(client, body())
    small = await curve(client, body(kv_cache_memory_bytes=2_000_000_000))
    assert 1 <= small["max_batch"] < plain["max_batch"]


async def test_sglang_recv_interval_delays_first_tokens_only_under_load(
    client: AsyncTestClient[Litestar],
) -> None:
    """Looking every 30 steps: the lone user's TTFT is unchanged, a busy server's grows."""
    plain = (await curve(client, body(engine="sglang")))["points"]
    skipping = (await curve(client, body(engine="sglang", scheduler_recv_interval=30)))["points"]
    assert skipping[0]["ttft_ms"] == pytest.approx(plain[0]["ttft_ms"], rel=1e-12)
    busy = len(plain) // 2
    assert skipping[busy]["concurrency"] == plain[busy]["concurrency"]
    assert skipping[busy]["ttft_ms"] > plain[busy]["ttft_ms"]


@pytest.mark.parametrize(
    ("engine", "knob", "value"),
    [
        ("vllm", "scheduler_recv_interval", 10),
        ("vllm", "mem_fraction_static", 0.8),
        ("sglang", "kv_cache_memory_bytes", 10**9),
        ("trtllm", "enforce_eager", True),
    ],
    ids=["recv-interval-on-vllm", "mem-fraction-on-vllm", "kv-bytes-on-sglang", "eager-on-trt"],
)
async def test_a_knob_the_engine_lacks_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], engine: str, knob: str, value: object
) -> None:
    """Another engine's flag is refused, naming the field, not silently ignored."""
    response = await client.post("/v1/frontier", json=body(engine=engine, **{knob: value}))
    assert knob in error_keys(assert_problem(response, 400))


async def test_the_svg_query_takes_the_settings_as_the_post_body_does(
    client: AsyncTestClient[Litestar],
) -> None:
    """max_num_seqs in the query draws the POST answer's curve: its last point is there."""
    question = body(engine="sglang", max_num_seqs=16, scheduler_recv_interval=10)
    response = await client.get("/v1/frontier.svg", params=question)
    assert response.status_code == 200, response.text
    last = (await curve(client, question))["points"][-1]
    assert f"{last['concurrency']} users: TTFT {last['ttft_ms']:,.1f} ms" in response.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"max_num_seqs": "0"}, "max_num_seqs"),
        ({"max_num_batched_tokens": "lots"}, "max_num_batched_tokens"),
        ({"mem_fraction_static": "0", "engine": "sglang"}, "mem_fraction_static"),
        ({"scheduler_recv_interval": "1001", "engine": "sglang"}, "scheduler_recv_interval"),
        ({"scheduler_recv_interval": "10"}, "scheduler_recv_interval"),
    ],
    ids=["zero-seqs", "not-a-number", "zero-fraction", "interval-too-long", "foreign-knob"],
)
async def test_a_bad_svg_setting_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], params: dict[str, str], field: str
) -> None:
    """Out of range, not a number, or not the engine's: problem+json 400 naming it."""
    response = await client.get("/v1/frontier.svg", params={**body(), **params})
    assert field in error_keys(assert_problem(response, 400))
