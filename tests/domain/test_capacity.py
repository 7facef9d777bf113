"""Capacity: the engine's KV budget, paged into blocks, against a context length."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from service.catalog_files import load_engine_profiles
from service.domain.capacity import (
    BindingConstraint,
    Deployment,
    capacity,
    max_context_for_batch,
    sequence_kv_bytes,
)
from service.domain.engine import (
    activation_peak_bytes,
    batched_tokens,
    loaded_model_bytes,
    mlp_width,
    non_torch_bytes,
    rope_cache_bytes,
)
from service.domain.precision import Precision
from service.domain.weights import weight_memory
from tests.domain.reference import (
    A100_80_BYTES,
    H100_BYTES,
    H200_BYTES,
    VLLM_MEMORY_JSON,
    ZERO_OVERHEAD,
    arch,
    load_reference,
    params,
)

VLLM_V0 = load_engine_profiles().get("vllm-0.6.4")

GIB = 2**30


def weights_per_gpu(model: str, precision: Precision = Precision.BF16, tp: int = 1) -> int:
    return weight_memory(arch(model), params(model), precision, tp).per_gpu_bytes


def llama3_8b_on_h100(context: int = 8192, **deployment: Any) -> Any:
    return capacity(
        arch("llama3-8b"),
        weights_per_gpu("llama3-8b"),
        Deployment(gpu_memory_bytes=H100_BYTES, **deployment),
        ZERO_OVERHEAD,
        context,
    )


# --- the sheet's §3.3 closed form ------------------------------------------------------------


def test_llama2_7b_on_a100_80gb() -> None:
    """0.9·80 GiB − 13,476,831,232 B fp16 weights = 63,832,580,096 B; / (16·524,288) =
    7,609.4 → 7,609 blocks; 4096 tokens need 256 blocks: 29.72 → batch 29 (sheet §3.3)."""
    cap = capacity(
        arch("llama2-7b"),
        weights_per_gpu("llama2-7b", Precision.FP16),
        Deployment(
            gpu_memory_bytes=A100_80_BYTES,
            weight_precision=Precision.FP16,
            kv_precision=Precision.FP16,
        ),
        ZERO_OVERHEAD,
        4096,
    )
    assert cap.memory.kv_cache == 63_832_580_096
    assert cap.kv_cache_blocks == 7_609
    assert cap.kv_cache_tokens == 121_744
    assert cap.max_batch == 29


def test_llama3_8b_on_h100_blocks_tokens_and_batch() -> None:
    """0.9·85,520,809,984 − 16,060,522,496 = 60,908,206,489 B; / 2,097,152 B per block =
    29,043 blocks = 464,688 tokens; 8192 tokens = 512 blocks: 56.72 → 56 (sheet §3.3)."""
    cap = llama3_8b_on_h100(8192)
    assert cap.fits
    assert cap.kv_cache_blocks == 29_043
    assert cap.kv_cache_tokens == 464_688
    assert cap.max_batch == 56
    assert cap.binding_constraint is BindingConstraint.KV_CACHE
    assert cap.reasons == ()


def test_llama3_8b_at_4096_tokens_fits_113() -> None:
    """29,043 blocks / 256 blocks per 4096-token sequence = 113.45 → 113 (sheet §3.3)."""
    assert llama3_8b_on_h100(4096).max_batch == 113


@pytest.mark.parametrize(
    ("kv_precision", "blocks"),
    [(Precision.BF16, 26_995), (Precision.FP8, 53_990)],
    ids=["bf16-kv", "fp8-kv"],
)
def test_llama3_8b_with_4_gib_runtime_overhead(kv_precision: Precision, blocks: int) -> None:
    """4 GiB less: 56,613,239,193 B / 2,097,152 = 26,995 blocks; fp8 pages are half as
    large: 53,990 (sheet §3.3)."""
    overhead = msgspec.structs.replace(ZERO_OVERHEAD, non_torch_bytes=4 * GIB)
    cap = capacity(
        arch("llama3-8b"),
        weights_per_gpu("llama3-8b"),
        Deployment(gpu_memory_bytes=H100_BYTES, kv_precision=kv_precision),
        overhead,
        8192,
    )
    assert cap.kv_cache_blocks == blocks


def test_llama3_70b_tp4_with_the_sheets_even_weight_split() -> None:
    """Per GPU: 0.9·85,520,809,984 − 141,107,412,992/4 = 41,691,875,737 B; / (16·81,920)
    = 31,808 blocks (sheet §3.3, which splits every weight 4 ways)."""
    cap = capacity(
        arch("llama3-70b"),
        141_107_412_992 // 4,
        Deployment(gpu_memory_bytes=H100_BYTES, tensor_parallel=4),
        ZERO_OVERHEAD,
        8192,
    )
    assert cap.kv_cache_blocks == 31_808


def test_llama3_70b_tp4_with_replicated_norms() -> None:
    """The 1,318,912 norm parameters are on every rank: 3/4 · 2,637,824 B = 1,978,368 B more
    per GPU than the even split, 1.5 blocks of 1,310,720 B: 31,806.7 → 31,806."""
    cap = capacity(
        arch("llama3-70b"),
        weights_per_gpu("llama3-70b", tp=4),
        Deployment(gpu_memory_bytes=H100_BYTES, tensor_parallel=4),
        ZERO_OVERHEAD,
        8192,
    )
    assert cap.kv_cache_blocks == 31_806


def test_llama3_70b_bf16_does_not_fit_one_h200() -> None:
    """0.9·150,109,880,320 − 141,107,412,992 = −6,008,520,704 B: the weights alone exceed
    the usable memory, the reason says so in GB (sheet §3.3), and the KV cache is 0 bytes,
    never a negative size."""
    cap = capacity(
        arch("llama3-70b"),
        weights_per_gpu("llama3-70b"),
        Deployment(gpu_memory_bytes=H200_BYTES),
        ZERO_OVERHEAD,
        8192,
    )
    assert not cap.fits
    assert cap.max_batch == 0
    assert cap.kv_cache_blocks == 0
    assert cap.memory.kv_cache == 0
    assert cap.binding_constraint is BindingConstraint.WEIGHTS
    assert len(cap.reasons) == 1
    assert "141.1 GB" in cap.reasons[0]
    assert "weights" in cap.reasons[0]


def test_pipeline_stage_pages_only_its_layers() -> None:
    """Llama-3-8B PP2: 76,968,728,985 − 8,030,261,248 B per stage; a block of 16 layers is
    16·16·4,096 = 1,048,576 B: 65,744 blocks."""
    cap = capacity(
        arch("llama3-8b"),
        weight_memory(arch("llama3-8b"), params("llama3-8b"), Precision.BF16, 1, 2).per_gpu_bytes,
        Deployment(gpu_memory_bytes=H100_BYTES, pipeline_parallel=2),
        ZERO_OVERHEAD,
        8192,
    )
    assert cap.kv_cache_blocks == 65_744


# --- limits and reasons ----------------------------------------------------------------------


def test_max_context_for_one_sequence_is_capped_by_the_model() -> None:
    """464,688 tokens of cache exceed Llama-3.1-8B's 131,072-token context: 131,072."""
    assert llama3_8b_on_h100(8192).max_context_for_batch_1 == 131_072


def test_max_context_for_a_batch_shares_the_blocks() -> None:
    """Four sequences share 29,043 blocks: 7,260 blocks = 116,160 tokens each."""
    kv_bytes = 29_043 * 2_097_152
    deployment = Deployment(gpu_memory_bytes=H100_BYTES)
    longest = max_context_for_batch(arch("llama3-8b"), deployment, ZERO_OVERHEAD, kv_bytes, 4, 8192)
    assert longest == 116_160


def test_max_context_is_zero_when_nothing_fits() -> None:
    """No KV memory, no context at all."""
    deployment = Deployment(gpu_memory_bytes=H100_BYTES)
    assert max_context_for_batch(arch("llama3-8b"), deployment, ZERO_OVERHEAD, 0, 1, 8192) == 0


def test_context_over_the_model_maximum_is_infeasible() -> None:
    """131,073 tokens exceed Llama-3.1-8B's max_position_embeddings 131,072: no batch, and
    the reason names both numbers."""
    cap = llama3_8b_on_h100(131_073)
    assert not cap.fits
    assert cap.binding_constraint is BindingConstraint.MODEL_CONTEXT
    assert any("131073" in reason and "131072" in reason for reason in cap.reasons)


def test_max_num_seqs_caps_the_batch_and_is_named() -> None:
    """56 sequences fit at 8192 tokens; max_num_seqs 32 admits 32 and binds."""
    cap = llama3_8b_on_h100(8192, max_num_seqs=32)
    assert cap.max_batch == 32
    assert cap.binding_constraint is BindingConstraint.MAX_NUM_SEQS


def test_max_num_seqs_above_the_memory_limit_does_not_bind() -> None:
    """max_num_seqs 100 > 56: memory still decides."""
    cap = llama3_8b_on_h100(8192, max_num_seqs=100)
    assert cap.max_batch == 56
    assert cap.binding_constraint is BindingConstraint.KV_CACHE


def test_runtime_overheads_can_leave_no_kv_memory() -> None:
    """18 GB: 16.2 GB usable holds the 16.06 GB of weights but not the activation peak and
    runtime: no KV memory, and the reason lists what took it."""
    cap = capacity(
        arch("llama3-8b"),
        weights_per_gpu("llama3-8b"),
        Deployment(gpu_memory_bytes=18 * 10**9),
        VLLM_V0,
        8192,
    )
    assert not cap.fits
    assert cap.binding_constraint is BindingConstraint.KV_CACHE
    assert cap.reasons[0].startswith("no memory left for the KV cache")


def test_one_sequence_larger_than_the_cache_is_explained() -> None:
    """1 GiB of KV holds 8,192 Llama-3-8B tokens; a 16,384-token sequence does not fit."""
    usable = 16_060_522_496 + GIB
    cap = capacity(
        arch("llama3-8b"),
        weights_per_gpu("llama3-8b"),
        Deployment(gpu_memory_bytes=usable, gpu_memory_utilization=1.0),
        ZERO_OVERHEAD,
        16_384,
    )
    assert cap.kv_cache_tokens == 8192
    assert not cap.fits
    assert "16384 tokens" in cap.reasons[0]


def test_without_max_context_search_it_is_reported_as_zero() -> None:
    """The planner skips the longest-context search; it reads 0."""
    cap = capacity(
        arch("llama3-8b"),
        weights_per_gpu("llama3-8b"),
        Deployment(gpu_memory_bytes=H100_BYTES),
        ZERO_OVERHEAD,
        8192,
        with_max_context=False,
    )
    assert cap.max_context_for_batch_1 == 0


# --- sliding windows under paging ------------------------------------------------------------


def test_sliding_layers_reserve_window_plus_a_prefill_chunk() -> None:
    """vLLM SlidingWindowSpec: cdiv(min(W − 1 + chunk, T), 16) + 1 blocks. Mistral v0.1 at
    32,768 tokens, chunk 2048: cdiv(6,143, 16) + 1 = 385 blocks in each of 32 layers of
    16·4,096 B = 807,403,520 B, against 2,048 blocks (4,294,967,296 B) unwindowed."""
    chunked = msgspec.structs.replace(ZERO_OVERHEAD, chunked_prefill_tokens=2048)
    deployment = Deployment(gpu_memory_bytes=H100_BYTES)
    model = arch("mistral-7b-v0.1")
    assert sequence_kv_bytes(model, deployment, chunked, 32_768, 32_768) == 32 * 385 * 65_536


def test_without_the_hybrid_allocator_sliding_layers_are_full() -> None:
    """With the hybrid allocator off vLLM treats sliding layers as full attention."""
    flat = msgspec.structs.replace(
        ZERO_OVERHEAD, chunked_prefill_tokens=2048, hybrid_kv_allocator=False
    )
    deployment = Deployment(gpu_memory_bytes=H100_BYTES)
    model = arch("mistral-7b-v0.1")
    assert sequence_kv_bytes(model, deployment, flat, 32_768, 32_768) == 4_294_967_296


def test_a_profile_run_as_long_as_the_context_saves_nothing() -> None:
    """Without chunked prefill the chunk is the whole 32,768-token context: W − 1 + 32,768
    exceeds it, so every layer reserves all 2,048 blocks."""
    deployment = Deployment(gpu_memory_bytes=H100_BYTES)
    model = arch("mistral-7b-v0.1")
    assert sequence_kv_bytes(model, deployment, ZERO_OVERHEAD, 32_768, 32_768) == 4_294_967_296


# --- the engine's own memory -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunked", "max_model_len", "tokens"),
    [(None, 1000, 2048), (None, 20_000, 20_000), (4096, 20_000, 4096)],
    ids=["short-context-profiles-2048", "long-context-profiles-all", "chunked-prefill"],
)
def test_profile_run_batch(chunked: int | None, max_model_len: int, tokens: int) -> None:
    """The profile run batches max(max_model_len, 2048) tokens, or the prefill chunk."""
    profile = msgspec.structs.replace(VLLM_V0, chunked_prefill_tokens=chunked)
    assert batched_tokens(profile, max_model_len) == tokens


@pytest.mark.parametrize(
    ("model", "width"),
    [
        ("llama3-8b", 14_336),  # dense f
        ("mixtral-8x7b", 2 * 14_336),  # k·f_e
        ("qwen3-30b-a3b", 8 * 768),  # every layer MoE: the dense f is never used
        ("deepseek-v2-lite", 6 * 1408 + 2 * 1408),  # k·f_e + shared 2·1408 > dense 10,944
        ("deepseek-v3", 18_432),  # 8·2048 + 2048 = dense 18,432
    ],
    ids=["dense", "mixtral", "qwen3-moe-all-sparse", "deepseek-v2-lite", "deepseek-v3"],
)
def test_widest_mlp_per_token(model: str, width: int) -> None:
    """The activation peak follows the widest per-token MLP intermediate."""
    assert mlp_width(arch(model)) == width


@pytest.mark.parametrize(
    ("max_model_len", "peak_gib"),
    [(20_000, 17.06 - 14.9888), (29_000, 17.98 - 14.9888)],
    ids=["20k", "29k"],
)
def test_activation_peak_matches_the_rtx_3090_log(max_model_len: int, peak_gib: float) -> None:
    """vllm#10517 logged torch peaks of 17.06 / 17.98 GiB over 14.9888 GiB of Llama-3.1-8B
    weights: 2.07 / 2.99 GiB of activations, within 0.02 GiB."""
    peak = activation_peak_bytes(arch("llama3-8b"), VLLM_V0, max_model_len)
    assert peak / GIB == pytest.approx(peak_gib, abs=0.02)


def test_activation_peak_shrinks_with_tensor_parallelism() -> None:
    """The forward-pass peak is tokens · c · (f/t + d): at TP2, 8192 · 6 · (14,336/2 + 4,096)."""
    forward_only = msgspec.structs.replace(ZERO_OVERHEAD, activation_bytes_per_token_width=6.0)
    peak = activation_peak_bytes(arch("llama3-8b"), forward_only, 8192, 2)
    assert peak == 8192 * 6 * (7168 + 4096)


def test_sampler_warm_up_sets_the_peak_when_larger() -> None:
    """The peak is the larger of forward pass and sampler (max_num_seqs · V · s), not the
    sum: 256 · 128,256 · 1 B = 32,833,536 B beats a forward pass of 0 B."""
    sampler_only = msgspec.structs.replace(
        ZERO_OVERHEAD, max_num_seqs=256, sampler_bytes_per_logit=1.0
    )
    assert activation_peak_bytes(arch("llama3-8b"), sampler_only, 8192) == 256 * 128_256


@pytest.mark.parametrize("tp", [1, 2], ids=["tp1", "tp2"])
def test_default_profile_reproduces_the_h100_activation_peak(tp: int) -> None:
    """vllm#10511 logged a 1.26 GiB activation peak for Meta-Llama-3-8B at 8192 tokens on an
    H100, the same at TP1 and TP2; the default profile reproduces it within 0.01 GiB."""
    points = load_reference(VLLM_MEMORY_JSON)["datapoints"]
    logged = next(p for p in points if p["id"] == f"vllm-pr10511-llama3-8b-h100-tp{tp}")
    peak = activation_peak_bytes(arch("llama3-8b"), VLLM_V0, 8192, tp)
    assert peak / GIB == pytest.approx(logged["reported"]["activation_peak_GiB"], abs=0.01)


def test_loaded_weights_include_the_rope_cache() -> None:
    """vLLM's "weights took 14.9888 GB" for Llama-3.1-8B is 16,060,522,496 B of parameters
    plus a 131,072 · 128 · 2 B = 33,554,432 B cos/sin cache (vllm#10517; vLLM means GiB)."""
    loaded = loaded_model_bytes(arch("llama3-8b"), 16_060_522_496)
    assert loaded == 16_060_522_496 + 33_554_432
    assert loaded / GIB == pytest.approx(14.9888, abs=0.0001)


def test_mla_rope_cache_uses_the_rope_head_dim() -> None:
    """MLA rotates only the 64-dim decoupled key: DeepSeek-V3 163,840 · 64 · 2 B."""
    assert rope_cache_bytes(arch("deepseek-v3")) == 163_840 * 64 * 2


def test_nccl_memory_is_added_once_tensor_parallel() -> None:
    """Non-torch memory grows by the NCCL buffers once TP > 1 (vllm#10511)."""
    assert non_torch_bytes(VLLM_V0, 1) == VLLM_V0.non_torch_bytes
    assert non_torch_bytes(VLLM_V0, 2) == VLLM_V0.non_torch_bytes + VLLM_V0.nccl_bytes
    assert non_torch_bytes(VLLM_V0, 8) == non_torch_bytes(VLLM_V0, 2)


def rtx_3090_points() -> list[dict[str, Any]]:
    points = load_reference(VLLM_MEMORY_JSON)["datapoints"]
    return [p for p in points if p["id"].startswith("vllm-issue10517-3090")]


@pytest.mark.parametrize(
    ("max_model_len", "logged_blocks", "logged_batch"),
    [(20_000, 1952, 1), (29_000, 1478, 0)],
    ids=["20k-context-1952-blocks", "29k-context-1478-blocks"],
)
def test_default_profile_reproduces_the_rtx_3090_log(
    max_model_len: int, logged_blocks: int, logged_batch: int
) -> None:
    """vllm#10517, Llama-3.1-8B on an RTX 3090 (23.58 GiB, util 0.9, "weights took 14.9888
    GB", which vLLM computes in GiB): 1,952 / 1,478 blocks within 2 %; 1.56x concurrency at
    20k admits one sequence, 0.82x at 29k none (vLLM refused to start)."""
    logged = {p["reported"]["num_gpu_blocks"] for p in rtx_3090_points()}
    assert logged_blocks in logged
    cap = capacity(
        arch("llama3-8b"),
        round(14.9888 * GIB),
        Deployment(gpu_memory_bytes=round(23.58 * GIB)),
        VLLM_V0,
        max_model_len,
    )
    assert cap.kv_cache_blocks == pytest.approx(logged_blocks, rel=0.02)
    assert cap.max_batch == logged_batch
