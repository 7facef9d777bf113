"""Attention data parallelism: each rank caches its own sequences unsharded."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.capacity import Capacity, Deployment, capacity
from service.domain.kv_cache import kv_cache_bytes
from service.domain.latency import Serving, decode_terms
from service.domain.moe import routing_bytes_per_token
from service.domain.precision import Precision
from service.domain.weights import weight_memory
from tests.domain.reference import H200, H200_BYTES, ZERO_OVERHEAD, arch, params

FP8 = Precision.FP8


def fit(model: str, tp: int, *, attention_dp: bool, context: int = 4096, **knobs: Any) -> Capacity:
    weights = weight_memory(arch(model), params(model), FP8, tp).per_gpu_bytes
    deployment = Deployment(
        gpu_memory_bytes=H200_BYTES,
        tensor_parallel=tp,
        weight_precision=FP8,
        kv_precision=FP8,
        attention_data_parallel=attention_dp,
        **knobs,
    )
    return capacity(arch(model), weights, deployment, ZERO_OVERHEAD, context)


def test_mla_under_attention_dp_holds_t_times_the_sequences() -> None:
    """DeepSeek-V3's latent is copied onto every GPU under TP8; under attention DP each of
    the 8 ranks holds its own sequences, so the group holds 8x as many."""
    tp = fit("deepseek-v3", 8, attention_dp=False)
    dp = fit("deepseek-v3", 8, attention_dp=True)
    assert dp.max_batch == 8 * tp.max_batch
    assert dp.kv_cache_tokens == 8 * tp.kv_cache_tokens


def test_a_sequence_lives_on_one_rank_under_attention_dp() -> None:
    """Llama-3-70B's 8 KV heads shard over TP8 (a sequence spread over 8 GPUs); under
    attention DP one GPU holds all 8 heads of its sequences: 8x the bytes on that GPU, about
    the same group batch."""
    tp = fit("llama3-70b", 8, attention_dp=False, context=8192)
    dp = fit("llama3-70b", 8, attention_dp=True, context=8192)
    assert dp.kv_cache_bytes_per_sequence == 8 * tp.kv_cache_bytes_per_sequence
    assert dp.max_batch == pytest.approx(tp.max_batch, rel=0.01)


def test_max_num_seqs_is_per_rank_under_attention_dp() -> None:
    """Each rank schedules its own batch: the group's cap is t x max_num_seqs."""
    assert fit("deepseek-v3", 8, attention_dp=True, context=1024, max_num_seqs=4).max_batch == 32


def test_decode_reads_an_eighth_of_each_latent_per_gpu_under_attention_dp() -> None:
    """KV bytes a GPU reads per decode step: B x whole latent under TP8 (replicated), B x
    whole latent / 8 under attention DP (each rank reads its own sequences); the tokens'
    routing through the experts is the same in both."""
    model, batch, context = "deepseek-v3", 64, 4096
    whole = kv_cache_bytes(arch(model), FP8, context)
    routing = batch * routing_bytes_per_token(arch(model), 8, expert_parallel=False)
    for attention_dp, share in ((False, 1.0), (True, 1 / 8)):
        serving = Serving(
            gpu=H200,
            tensor_parallel=8,
            weight_precision=FP8,
            kv_precision=FP8,
            attention_data_parallel=attention_dp,
        )
        terms = decode_terms(arch(model), params(model), serving, batch=batch, context=context)
        bandwidth = H200.memory_bandwidth_bytes_per_s
        assert terms.kv_s * bandwidth == pytest.approx(batch * whole * share, rel=1e-9)
        assert terms.routing_s * bandwidth == pytest.approx(routing, rel=1e-9)
