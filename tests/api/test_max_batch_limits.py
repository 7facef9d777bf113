"""POST /v1/max-batch against the engine's own limits: max_model_len, a fixed KV cache size
and weights that leave nothing for the cache."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
LLAMA_70B = "meta-llama/Llama-3.1-70B"
PIB = 2**50


async def max_batch(client: AsyncTestClient[Litestar], **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/max-batch", json={"gpu": "h100-sxm", **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_context_longer_than_max_model_len_does_not_fit(
    client: AsyncTestClient[Litestar],
) -> None:
    """vLLM refuses prompts past max_model_len: fits false, batch 0, the reason names it."""
    body = await max_batch(client, model=LLAMA_8B, context_length=8192, max_model_len=4096)
    assert (body["fits"], body["max_batch"]) == (False, 0)
    assert body["binding_constraint"] == "max_model_len"
    assert any("max_model_len 4096" in r for r in body["reasons"])


@pytest.mark.parametrize(
    ("context_length", "max_model_len"),
    [(8192, 4096), (2048, 4096), (4096, 4096)],
    ids=["context-above", "context-below", "context-equal"],
)
async def test_longest_single_sequence_stops_at_max_model_len(
    client: AsyncTestClient[Litestar], context_length: int, max_model_len: int
) -> None:
    """max_context_for_batch_1 never exceeds the engine's max_model_len."""
    body = await max_batch(
        client, model=LLAMA_8B, context_length=context_length, max_model_len=max_model_len
    )
    assert body["max_context_for_batch_1"] == max_model_len


async def test_context_within_max_model_len_still_fits(
    client: AsyncTestClient[Litestar],
) -> None:
    """A context up to max_model_len is answered as before, with no reasons."""
    body = await max_batch(client, model=LLAMA_8B, context_length=4096, max_model_len=4096)
    assert body["fits"] is True
    assert body["max_batch"] >= 1
    assert body["reasons"] == []


async def test_kv_cache_larger_than_the_gpu_does_not_fit(
    client: AsyncTestClient[Litestar],
) -> None:
    """1 PiB of KV cache on an 80 GB GPU cannot be allocated: fits false, reason names it, and
    no pool is reported (no tokens, blocks, bytes or longest context)."""
    body = await max_batch(client, model=LLAMA_8B, context_length=8192, kv_cache_memory_bytes=PIB)
    assert (body["fits"], body["max_batch"]) == (False, 0)
    assert any("kv_cache_memory_bytes" in r for r in body["reasons"])
    pool = (body["kv_cache_tokens"], body["kv_cache_blocks"], body["memory"]["kv_cache"])
    assert pool == (0, 0, 0)
    assert body["max_context_for_batch_1"] == 0


async def test_kv_cache_that_fits_beside_the_weights_is_honoured(
    client: AsyncTestClient[Litestar],
) -> None:
    """A 20 GB KV cache beside 16 GB of weights is allocated as asked."""
    body = await max_batch(
        client, model=LLAMA_8B, context_length=8192, kv_cache_memory_bytes=20 * 10**9
    )
    assert body["fits"] is True
    assert body["memory"]["kv_cache"] == 20 * 10**9


async def test_weights_too_large_report_no_kv_cache_rather_than_a_negative_one(
    client: AsyncTestClient[Litestar],
) -> None:
    """70B in bf16 on one H100: the weights alone overflow it; kv_cache is 0, not negative."""
    body = await max_batch(client, model=LLAMA_70B, context_length=4096, weight_dtype="bf16")
    assert body["fits"] is False
    assert body["memory"]["kv_cache"] == 0
    assert body["binding_constraint"] == "weights_exceed_memory"
