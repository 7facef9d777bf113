"""vLLM V1's start-up budget, by hand from ``vllm/v1/worker/gpu_worker.py``
(``determine_available_memory``) and ``vllm/engine/arg_utils.py`` (``get_batch_defaults``).

kv = total x gpu_memory_utilization - weights - torch peak - non-torch (- CUDA graphs from 0.21).
"""

from __future__ import annotations

import msgspec
import pytest

from service.catalog_files import load_engine_profiles
from service.domain.capacity import Deployment, capacity, memory_budget
from service.domain.engines.vllm_v1 import (
    batch_defaults,
    moe_workspace_bytes,
    non_torch_bytes,
    scheduler_limits,
    torch_peak_bytes,
)
from tests.domain.reference import arch

GIB = 2**30
ENGINES = load_engine_profiles()
V0_19 = ENGINES.get("vllm-0.19.0")
V0_21 = ENGINES.get("vllm-0.21.0")
H100_RUNTIME = round(79.19 * GIB)  # "Free memory on device (78.68/79.19 GiB)", llm-d 0.19.0 log


@pytest.mark.parametrize(
    ("memory", "name", "expected"),
    [
        (H100_RUNTIME, "NVIDIA H100 80GB HBM3", (8192, 1024)),
        (80 * GIB, "NVIDIA A100-SXM4-80GB", (2048, 256)),
        (round(44.5 * GIB), "NVIDIA L40S", (2048, 256)),
        (140 * GIB, "NVIDIA H200", (8192, 1024)),
    ],
    ids=["h100", "a100-excluded-by-name", "l40s-below-70gib", "h200"],
)
def test_serve_defaults_follow_gpu_memory_and_name(
    memory: int, name: str, expected: tuple[int, int]
) -> None:
    """>= 70 GiB and not an A100: 8192 batched tokens / 1024 seqs; else 2048 / 256."""
    row = batch_defaults(V0_19, memory, name)
    assert (row.max_num_batched_tokens, row.max_num_seqs) == expected


def test_flags_override_the_defaults() -> None:
    """--max-num-batched-tokens / --max-num-seqs win over the table."""
    deployment = Deployment(
        gpu_memory_bytes=H100_RUNTIME, max_num_batched_tokens=1024, max_num_seqs=8
    )
    assert scheduler_limits(V0_19, deployment) == (1024, 8)


def test_torch_peak_is_the_sampler_phase_for_llama_8b_on_h100() -> None:
    """1024 rows x 128,256 logits x s + 8,192 x 4,096 bf16 hidden states (no experts)."""
    s = V0_19.sampler_bytes_per_logit
    expected = int(1024 * 128_256 * s + 8192 * 4096 * 2)
    assert torch_peak_bytes(arch("llama3-8b"), V0_19, 8192, 1024) == expected


def test_sampler_rows_never_exceed_the_batched_tokens() -> None:
    """The warm-up samples min(max_num_seqs, max_num_batched_tokens) rows."""
    s = V0_19.sampler_bytes_per_logit
    expected = int(512 * 128_256 * s + 512 * 4096 * 2)
    assert torch_peak_bytes(arch("llama3-8b"), V0_19, 512, 1024) == expected


def test_non_last_pipeline_stage_peaks_at_its_forward_pass() -> None:
    """samples=False: tokens x 6 B x (f + d), no logits."""
    expected = int(8192 * 6.0 * (14_336 + 4096))
    assert torch_peak_bytes(arch("llama3-8b"), V0_19, 8192, 1024, samples=False) == expected


def test_moe_workspace_follows_the_fused_moe_shapes() -> None:
    """Qwen3-30B-A3B (k=8, f_e=768, d=2048): N = 1536; (max(1536, 2048) + 768) x 8 x 2 B
    per token, 8,192 tokens."""
    assert moe_workspace_bytes(arch("qwen3-30b-a3b"), V0_19, 8192, 1) == 8192 * 8 * 2816 * 2


def test_dense_models_have_no_moe_workspace() -> None:
    """Only routed experts allocate the fused-MoE workspace."""
    assert moe_workspace_bytes(arch("llama3-8b"), V0_19, 8192, 1) == 0


def test_tensor_parallel_adds_the_all_reduce_buffers() -> None:
    """Non-torch growth: the TP1 figure, plus NCCL / custom all-reduce once TP > 1."""
    assert non_torch_bytes(V0_19, 1) == V0_19.non_torch_bytes
    assert non_torch_bytes(V0_19, 4) == V0_19.non_torch_bytes + V0_19.nccl_bytes


def test_budget_is_requested_memory_less_every_term() -> None:
    """kv = total x util - weights - peak - non-torch (0.19 does not subtract graphs)."""
    model = arch("llama3-8b")
    deployment = Deployment(gpu_memory_bytes=H100_RUNTIME, gpu_memory_utilization=0.95)
    weights = 16 * GIB
    budget = memory_budget(model, weights, deployment, V0_19, 8192)
    peak = torch_peak_bytes(model, V0_19, 8192, 1024)
    expected = int(H100_RUNTIME * 0.95) - weights - peak - V0_19.non_torch_bytes
    assert budget.kv_cache == expected
    assert budget.cudagraph == 0


def test_from_0_21_the_cuda_graph_estimate_comes_off_the_kv_cache() -> None:
    """0.21 subtracts cudagraph_bytes_per_layer x 32 layers more than 0.19; eager does not."""
    model = arch("llama3-8b")
    deployment = Deployment(gpu_memory_bytes=H100_RUNTIME)
    old = memory_budget(model, 16 * GIB, deployment, V0_19, 8192)
    new = memory_budget(model, 16 * GIB, deployment, V0_21, 8192)
    assert old.kv_cache - new.kv_cache == 32 * V0_21.cudagraph_bytes_per_layer
    eager = msgspec.structs.replace(deployment, enforce_eager=True)
    assert memory_budget(model, 16 * GIB, eager, V0_21, 8192).kv_cache == old.kv_cache


def test_kv_cache_memory_bytes_replaces_the_profiled_budget() -> None:
    """--kv-cache-memory-bytes sizes the cache directly."""
    deployment = Deployment(gpu_memory_bytes=H100_RUNTIME, kv_cache_memory_bytes=10 * GIB)
    assert memory_budget(arch("llama3-8b"), 16 * GIB, deployment, V0_21, 8192).kv_cache == (
        10 * GIB
    )


def test_llama_8b_tokens_are_whole_blocks_of_the_budget() -> None:
    """GPU KV cache size = floor(kv / 2 MiB per 16-token block) x 16 (32 layers x 64 KiB)."""
    deployment = Deployment(gpu_memory_bytes=H100_RUNTIME, gpu_memory_utilization=0.95)
    cap = capacity(arch("llama3-8b"), 16 * GIB, deployment, V0_19, 8192, with_max_context=False)
    assert cap.kv_cache_tokens == cap.memory.kv_cache // (2 * 2**20) * 16
    assert cap.kv_cache_bytes_per_sequence == 8192 * 131_072


def test_max_model_len_is_separate_from_the_context_asked_about() -> None:
    """V1's profile run batches max_num_batched_tokens, so max_model_len 32k vs 8k leaves the
    budget unchanged (the 0.19 Llama-3.1-8B logs at 8k and 32k both give 58.11 GiB)."""
    model = arch("llama3-8b")
    short = Deployment(gpu_memory_bytes=H100_RUNTIME, max_model_len=8192)
    long = Deployment(gpu_memory_bytes=H100_RUNTIME, max_model_len=32_768)
    a = capacity(model, 16 * GIB, short, V0_19, 4096, with_max_context=False)
    b = capacity(model, 16 * GIB, long, V0_19, 4096, with_max_context=False)
    assert a.memory == b.memory


@pytest.mark.parametrize(
    ("engine_id", "pads"),
    [("vllm-0.9.2", False), ("vllm-0.10.1", True), ("vllm-0.21.0", True), ("sglang-0.5.3", False)],
    ids=["0.9", "0.10.1", "0.21", "sglang"],
)
def test_mxfp4_expert_padding_starts_with_the_gpt_oss_kernels(engine_id: str, pads: bool) -> None:
    """vLLM pads MXFP4 experts to its MoE kernel layout from 0.10.1 (gpt-oss support; the
    sizes per GPU are in service/domain/kernel_layout.py)."""
    assert ENGINES.get(engine_id).pads_mxfp4_experts is pads
