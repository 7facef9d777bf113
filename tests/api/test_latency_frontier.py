"""/v1/latency at batch_size C is /v1/frontier's point at concurrency C, saturation included."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

STEADY = ("ttft_ms", "tpot_ms", "e2e_ms", "output_tokens_per_s")

LLAMA_70B_FP8 = {
    "model": "meta-llama/Llama-3.1-70B",
    "gpu": "h100-sxm",
    "tensor_parallel": 2,
    "weight_dtype": "fp8",
    "input_tokens": 2000,
    "output_tokens": 500,
}
"""81 sequences fit; 82 users keep them decoding (saturation_limit max_batch)."""
GPT_OSS_EP = {
    "model": "openai/gpt-oss-120b",
    "gpu": "h100-sxm",
    "tensor_parallel": 4,
    "expert_parallel": True,
    "attention_data_parallel": True,
    "input_tokens": 2000,
    "output_tokens": 1000,
}
"""Saturates at max_batch too, with expert and attention data parallelism."""
GPT_OSS_PROMPTS = {**GPT_OSS_EP, "output_tokens": 500}
"""Saturates on the step budget (prefill_budget), well below max_batch."""
SGLANG_TUNED = {
    "model": "meta-llama/Llama-3.1-8B",
    "gpu": "h100-sxm",
    "engine": "sglang",
    "input_tokens": 2000,
    "output_tokens": 500,
    "max_num_seqs": 24,
    "max_num_batched_tokens": 4096,
    "mem_fraction_static": 0.8,
    "scheduler_recv_interval": 10,
}
"""SGLang with its own knobs: the batch capped by max_num_seqs, 4,096-token prompt chunks
(--chunked-prefill-size), a look for new requests every 10 steps."""
VLLM_TUNED = {
    "model": "meta-llama/Llama-3.1-8B",
    "gpu": "h100-sxm",
    "input_tokens": 2000,
    "output_tokens": 500,
    "max_num_batched_tokens": 2048,
    "kv_cache_memory_bytes": 4_000_000_000,
    "block_size_tokens": 32,
    "enforce_eager": True,
}
"""vLLM V1 with its memory and step-budget knobs: a 4 GB KV cache bounds the batch."""
DEPLOYMENTS = [LLAMA_70B_FP8, GPT_OSS_EP, GPT_OSS_PROMPTS, SGLANG_TUNED, VLLM_TUNED]
DEPLOYMENT_IDS = [
    "70b-fp8-tp2",
    "gpt-oss-ep-adp",
    "gpt-oss-prefill-budget",
    "sglang-knobs",
    "vllm-knobs",
]


async def frontier(client: AsyncTestClient[Litestar], question: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/frontier", json=question)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def latency(
    client: AsyncTestClient[Litestar], question: dict[str, Any], batch_size: int
) -> dict[str, Any]:
    response = await client.post("/v1/latency", json={**question, "batch_size": batch_size})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize("question", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
async def test_latency_at_each_frontier_concurrency_is_that_point(
    client: AsyncTestClient[Litestar], question: dict[str, Any]
) -> None:
    """TTFT, TPOT, e2e and throughput at 1, a middle point and saturation: the same numbers."""
    points = (await frontier(client, question))["points"]
    for point in (points[0], points[len(points) // 2], points[-2], points[-1]):
        answer = await latency(client, question, point["concurrency"])
        assert {key: answer[key] for key in STEADY} == pytest.approx(
            {key: point[key] for key in STEADY}, rel=1e-9
        ), point["concurrency"]
        assert answer["saturated"] is point["saturated"]


@pytest.mark.parametrize("question", DEPLOYMENTS, ids=DEPLOYMENT_IDS)
@pytest.mark.parametrize("times", [1, 2, 10], ids=["at", "twice", "ten-times"])
async def test_throughput_past_saturation_is_the_frontiers_max(
    client: AsyncTestClient[Litestar], question: dict[str, Any], times: int
) -> None:
    """More users than saturation_concurrency: output tokens/s stays max_output_tokens_per_s."""
    curve = await frontier(client, question)
    answer = await latency(client, question, times * curve["saturation_concurrency"])
    assert answer["output_tokens_per_s"] == pytest.approx(
        curve["max_output_tokens_per_s"], rel=1e-9
    )
    assert answer["saturated"] is True


async def test_users_past_saturation_wait_for_a_slot(client: AsyncTestClient[Litestar]) -> None:
    """70B fp8 on 2 H100s at 82, 100 and 1000 users: TPOT flat, TTFT grows with the queue."""
    answers = [await latency(client, LLAMA_70B_FP8, users) for users in (82, 100, 1000)]
    assert [a["tpot_ms"] for a in answers] == pytest.approx([answers[0]["tpot_ms"]] * 3)
    assert answers[0]["ttft_ms"] < answers[1]["ttft_ms"] < answers[2]["ttft_ms"]


async def test_a_batch_past_the_kv_cache_is_answered_saturated_and_not_fitting(
    client: AsyncTestClient[Litestar],
) -> None:
    """batch_size 100 where 81 sequences fit: fits false with the reason, 81 decoding."""
    answer = await latency(client, LLAMA_70B_FP8, 100)
    assert answer["fits"] is False
    assert any("batch_size 100 exceeds the 81 sequences" in r for r in answer["reasons"])
    assert answer["decode_batch"] == pytest.approx(81)


async def test_the_decode_phase_is_a_step_of_the_sequences_decoding(
    client: AsyncTestClient[Litestar],
) -> None:
    """Past the cap the decode step is the capped batch's: 100 and 1000 users, the same step."""
    at_100, at_1000 = [await latency(client, LLAMA_70B_FP8, users) for users in (100, 1000)]
    assert at_1000["decode"] == at_100["decode"]


SPECULATIVE = {"draft_tokens": 3, "acceptance_rate": 0.7}
KEPT = (1 - 0.7**4) / (1 - 0.7)
"""Tokens a verification step keeps per sequence: (1 - a^(k+1)) / (1 - a), k = 3, a = 0.7."""


@pytest.mark.parametrize(
    ("extra", "kept"),
    [({}, 1.0), ({"speculative": SPECULATIVE}, KEPT)],
    ids=["plain", "speculative"],
)
@pytest.mark.parametrize("batch_size", [1, 200], ids=["one", "200"])
async def test_tpot_is_no_less_than_the_decode_step_over_the_tokens_it_keeps(
    client: AsyncTestClient[Litestar], extra: dict[str, Any], kept: float, batch_size: int
) -> None:
    """Llama-3.2-1B on an H100: tpot_ms x the tokens a step keeps >= the decode step, decode.ms."""
    question = {
        "model": "meta-llama/Llama-3.2-1B",
        "gpu": "h100-sxm",
        "input_tokens": 1000,
        "output_tokens": 100,
        **extra,
    }
    answer = await latency(client, question, batch_size)
    assert answer["tpot_ms"] * kept >= answer["decode"]["ms"] * (1 - 1e-12)
    assert 0 < answer["decode_batch"] <= batch_size


@pytest.mark.parametrize(
    ("question", "subtitle"),
    [
        (LLAMA_70B_FP8, "max 1,506 output tok/s: 82 users keep the 81-sequence batch full"),
        (GPT_OSS_PROMPTS, "users fill the 8,192-token step budget with prompts"),
    ],
    ids=["max-batch", "prefill-budget"],
)
async def test_the_svg_says_what_the_saturating_users_do(
    client: AsyncTestClient[Litestar], question: dict[str, Any], subtitle: str
) -> None:
    """The chart's subtitle says the users keep the batch (or the step budget) full."""
    response = await client.get("/v1/frontier.svg", params=question)
    assert response.status_code == 200, response.text
    assert subtitle in response.text
