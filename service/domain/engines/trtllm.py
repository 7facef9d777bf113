"""TensorRT-LLM's KV cache: a fraction of the memory free once the engine is loaded.

``KvCacheConfig.free_gpu_memory_fraction`` (``kv_cache_free_gpu_mem_fraction``, default
0.9; ``tensorrt_llm/runtime`` ``KVCacheManager``; logged as "Allocated X GiB for max
tokens in paged KV cache (N)")::

    kv_cache = (total − context − weights − activations) · fraction
    blocks   = kv_cache // (tokens_per_block · bytes_per_token_all_layers)

``activations`` is the engine's execution context and runtime buffers (the forward at
``max_num_tokens``), priced with the profile's activation constant; the log's
"[MemUsageChange]" lines give it exactly when a datapoint has them.
"""

from __future__ import annotations

from service.domain.architecture import Architecture
from service.domain.deployment import Deployment, MemoryBudget
from service.domain.engines.model_memory import mlp_width
from service.domain.engines.profile import EngineProfile


def pool_bytes(free_after_load_bytes: int, fraction: float) -> int:
    """``free · kv_cache_free_gpu_mem_fraction``."""
    return int(max(free_after_load_bytes, 0) * fraction)


def memory_budget(
    arch: Architecture, weights_bytes: int, deployment: Deployment, profile: EngineProfile
) -> MemoryBudget:
    """The split on one GPU (module formula)."""
    tp = deployment.tensor_parallel
    tokens = deployment.max_num_batched_tokens or profile.chunked_prefill_tokens or 8192
    activation = int(
        tokens
        * profile.activation_bytes_per_token_width
        * (mlp_width(arch) / tp + arch.hidden_size)
    )
    context = profile.non_torch_bytes + (profile.nccl_bytes if tp > 1 else 0)
    free_after = deployment.gpu_memory_bytes - context - weights_bytes - activation
    fraction = deployment.kv_cache_free_gpu_mem_fraction or profile.kv_cache_free_gpu_mem_fraction
    return MemoryBudget(
        total=deployment.gpu_memory_bytes,
        usable=deployment.gpu_memory_bytes - context,
        weights=weights_bytes,
        activation=activation,
        non_torch=context,
        cudagraph=0,
        kv_cache=pool_bytes(free_after, fraction),
    )
