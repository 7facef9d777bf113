"""The serving engine's own memory: what it reserves before the KV cache gets the rest.

vLLM's start-up accounting (formula sheet §2.5, ``Worker.determine_num_available_blocks``
/ ``determine_available_memory``)::

    kv_budget = total · gpu_memory_utilization − weights − activation_peak − non_torch − cudagraph

``gpu_memory_utilization`` applies to the device **total**, weights included. The
constants below are named, versioned data with their provenance, never literals in code.
"""

from __future__ import annotations

import msgspec

from service.domain.architecture import Architecture
from service.domain.units import GIB


class EngineProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Constants of one engine version's memory accounting, with where they come from.

    * ``block_size_tokens``: PagedAttention block (vLLM ``CacheConfig.DEFAULT_BLOCK_SIZE``).
    * ``activation_bytes_per_token_width``: the profile run's activation peak per batched
      token per unit of ``(mlp_width/t + d)``. 6 (= 3 live tensors of 2 bytes) reproduces
      the 2.07 and 2.99 GiB peaks vLLM logged for Llama-3.1-8B at 20,000 and 29,000 batched
      tokens on an RTX 3090 (vllm#10517).
    * ``non_torch_bytes``: CUDA context, cuBLAS workspaces (0.35 GiB logged on an RTX 3090,
      vllm#10517); ``nccl_bytes`` is added once tensor parallelism is on (non-torch memory
      went from 1.79 to 3.58 GiB at TP2 on an H100, vllm#10511).
    * ``min_batched_tokens``: without chunked prefill the profile run batches
      ``max(max_model_len, 2048)`` tokens; ``chunked_prefill_tokens`` caps it when set.
    """

    name: str
    version: str
    block_size_tokens: int = 16
    gpu_memory_utilization: float = 0.9
    activation_bytes_per_token_width: float = 6.0
    non_torch_bytes: int = int(0.35 * GIB)
    nccl_bytes: int = int(1.79 * GIB)
    cudagraph_bytes: int = 0
    min_batched_tokens: int = 2048
    chunked_prefill_tokens: int | None = None
    hybrid_kv_allocator: bool = True
    sources: tuple[str, ...] = ()


VLLM_V0 = EngineProfile(
    name="vllm",
    version="0.6",
    sources=(
        "https://github.com/vllm-project/vllm/issues/10517",
        "https://github.com/vllm-project/vllm/pull/10511",
    ),
)


def batched_tokens(profile: EngineProfile, max_model_len: int) -> int:
    """Tokens in the start-up profiling forward pass."""
    if profile.chunked_prefill_tokens is not None:
        return profile.chunked_prefill_tokens
    return max(max_model_len, profile.min_batched_tokens)


def mlp_width(arch: Architecture) -> int:
    """Widest per-token MLP intermediate: dense ``f``, or ``k·f_e`` plus shared experts."""
    if arch.moe is None:
        return arch.intermediate_size
    moe = arch.moe
    routed = moe.experts_per_token * moe.expert_intermediate_size
    shared = moe.num_shared_experts * moe.shared_expert_intermediate_size
    dense = arch.intermediate_size if len(moe.moe_layers) < arch.num_layers else 0
    return max(routed + shared, dense)


def activation_peak_bytes(
    arch: Architecture, profile: EngineProfile, max_model_len: int, tensor_parallel: int = 1
) -> int:
    """Peak activation memory of the profile run: ``tokens · c · (mlp_width/t + d)``."""
    width = mlp_width(arch) / tensor_parallel + arch.hidden_size
    tokens = batched_tokens(profile, max_model_len)
    return int(tokens * profile.activation_bytes_per_token_width * width)


def non_torch_bytes(profile: EngineProfile, tensor_parallel: int) -> int:
    """CUDA context and libraries, plus NCCL buffers once tensor parallelism is on."""
    return profile.non_torch_bytes + (profile.nccl_bytes if tensor_parallel > 1 else 0)
