"""vLLM V1 start-up memory, as ``Worker.determine_available_memory`` computes it.

``vllm/v1/worker/gpu_worker.py`` (0.9 to 0.29) with ``vllm/utils`` ``memory_profiling``::

    requested = total · gpu_memory_utilization
    kv_cache  = requested − weights − torch_peak_increase − non_torch_increase
                (− cuda_graph_estimate, from 0.21: "CUDA graph memory profiling is enabled
                 (default since v0.21.0)")

``--kv-cache-memory-bytes`` replaces the whole computation. The profile run batches
``max_num_batched_tokens`` (V1 always chunks prefill) and warms the sampler up on
``min(max_num_seqs, max_num_batched_tokens)`` rows of logits; both defaults come from
``EngineArgs.get_batch_defaults`` (``vllm/engine/arg_utils.py``) for ``vllm serve``:
8192 / 1024 on GPUs with >= 70 GiB that are not A100s, else 2048 / 256.

The torch peak is the larger of the forward pass and the sampler phase; during the
sampler the forward's output hidden states (``[tokens, d]``) and the fused-MoE workspace
(``workspace13`` ``[tokens, k, max(N, d)]`` + ``workspace2`` ``[tokens, k, N/2]``,
``N = 2·f_e/t``; ``fused_moe`` ``TritonExperts.workspace_shapes``) are still allocated.
The per-logit constant and the non-torch terms are read off logs named in
``catalog/engines.yaml``.

A multimodal model's profile run first encodes a dummy batch of its largest items and keeps
the outputs through the forward and sampler phases: :mod:`service.domain.engines.encoder_cache`
(``profile_run_peak``) adds that to the peak.
"""

from __future__ import annotations

from service.domain.architecture import Architecture
from service.domain.deployment import Deployment, MemoryBudget
from service.domain.engines.encoder_cache import profile_run_peak
from service.domain.engines.model_memory import mlp_width
from service.domain.engines.profile import BatchDefaults, EngineProfile
from service.domain.kv_cache import (
    SPECULATIVE_CONV_MIXERS,
    KvCacheGroup,
    allocator_tokens,
    concurrency_tokens,
    pipeline_stages,
    state_blocks_per_sequence,
)


def batch_defaults(profile: EngineProfile, gpu_memory_bytes: int, gpu_name: str) -> BatchDefaults:
    """The first row of the profile's ``batch_defaults`` this GPU qualifies for."""
    name = gpu_name.lower()
    for row in profile.batch_defaults:
        excluded = any(word in name for word in row.excluded_gpu_names)
        if gpu_memory_bytes >= row.min_gpu_memory_bytes and not excluded:
            return row
    return BatchDefaults(
        max_num_batched_tokens=profile.chunked_prefill_tokens or profile.min_batched_tokens,
        max_num_seqs=profile.max_num_seqs,
    )


def scheduler_limits(profile: EngineProfile, deployment: Deployment) -> tuple[int, int]:
    """``(max_num_batched_tokens, max_num_seqs)``: the request's, else the defaults."""
    row = batch_defaults(profile, deployment.gpu_memory_bytes, deployment.gpu_name)
    tokens = deployment.max_num_batched_tokens or row.max_num_batched_tokens
    seqs = deployment.max_num_seqs or row.max_num_seqs
    return tokens, seqs


def moe_workspace_bytes(
    arch: Architecture, profile: EngineProfile, tokens: int, tensor_parallel: int
) -> int:
    """Fused-MoE workspaces kept through the sampler: ``tokens · k · (max(N, d) + N/2)``."""
    if arch.moe is None:
        return 0
    moe = arch.moe
    n = 2 * moe.expert_intermediate_size // tensor_parallel
    per_token = moe.experts_per_token * (max(n, arch.hidden_size) + n // 2)
    return int(tokens * per_token * profile.moe_workspace_bytes_per_element)


def torch_peak_bytes(
    arch: Architecture,
    profile: EngineProfile,
    tokens: int,
    seqs: int,
    tensor_parallel: int = 1,
    *,
    samples: bool = True,
) -> int:
    """Torch peak increase of the profile run (module formula); ``samples=False`` for a
    pipeline stage without the sampler (every stage but the last)."""
    forward = (
        tokens
        * profile.activation_bytes_per_token_width
        * (mlp_width(arch) / tensor_parallel + arch.hidden_size)
    )
    if not samples:
        return int(forward)
    rows = min(seqs, tokens)
    sampler = (
        rows * arch.vocab_size * profile.sampler_bytes_per_logit
        + tokens * arch.hidden_size * profile.hidden_state_bytes_per_element
        + moe_workspace_bytes(arch, profile, tokens, tensor_parallel)
    )
    return int(max(forward, sampler))


def non_torch_bytes(profile: EngineProfile, tensor_parallel: int) -> int:
    """Non-torch growth during profiling: CUDA/cuBLAS, plus NCCL and custom all-reduce
    buffers once tensor parallelism is on."""
    return profile.non_torch_bytes + (profile.nccl_bytes if tensor_parallel > 1 else 0)


def cudagraph_estimate_bytes(profile: EngineProfile, layers_on_gpu: int) -> int:
    """The CUDA-graph memory estimate, per layer held on this GPU (read off logs)."""
    return profile.cudagraph_bytes_per_layer * layers_on_gpu


def memory_budget(
    arch: Architecture, weights_bytes: int, deployment: Deployment, profile: EngineProfile
) -> MemoryBudget:
    """The busiest GPU's split (last pipeline stage: it also samples)."""
    tokens, seqs = scheduler_limits(profile, deployment)
    tp, pp = deployment.tensor_parallel, deployment.pipeline_parallel
    usable = int(deployment.gpu_memory_bytes * deployment.gpu_memory_utilization)
    activation = torch_peak_bytes(arch, profile, tokens, seqs, tp)
    if pp == 1:  # the encoder runs on the first stage; the busiest is the last
        max_model_len = deployment.max_model_len or arch.max_context_tokens
        items = deployment.mm_items_per_prompt
        activation = profile_run_peak(
            arch, profile, activation, tokens, seqs, max_model_len, items, tp
        )
    other = non_torch_bytes(profile, tp)
    layers = max(len(stage) for stage in pipeline_stages(arch, pp))
    graphs = 0
    if profile.subtracts_cudagraph_estimate and not deployment.enforce_eager:
        graphs = cudagraph_estimate_bytes(profile, layers)
    kv = usable - weights_bytes - activation - other - graphs
    if deployment.kv_cache_memory_bytes is not None:
        kv = deployment.kv_cache_memory_bytes
    return MemoryBudget(
        total=deployment.gpu_memory_bytes,
        usable=usable,
        weights=weights_bytes,
        activation=activation,
        non_torch=other,
        cudagraph=graphs,
        kv_cache=kv,
    )


def prefix_caching(profile: EngineProfile, deployment: Deployment) -> bool:
    """``--enable-prefix-caching`` as asked, else the profile's default."""
    if deployment.prefix_caching is not None:
        return deployment.prefix_caching
    return profile.prefix_caching_default


def state_blocks(arch: Architecture, profile: EngineProfile, deployment: Deployment) -> int:
    """Blocks of state (linear attention) one sequence holds: by the version's
    ``mamba_cache_mode`` under prefix caching (``none`` without it), plus one per
    speculative token (``kv_cache.state_blocks_per_sequence``).

    vLLM ``HybridAttentionMambaModelConfig``: prefix caching turns ``mamba_cache_mode``
    ``none`` into ``all`` for models that support Mamba prefix caching, else ``align``.
    ``all`` (a state per block of context) is not modelled, so the profile's mode applies to
    gated-DeltaNet / KDA layers (which vLLM serves in ``align``) and other state layers keep
    ``none``.
    """
    mode = "none"
    state = arch.state
    if prefix_caching(profile, deployment) and state and state.kind in SPECULATIVE_CONV_MIXERS:
        mode = profile.mamba_cache_mode_prefix_caching
    return state_blocks_per_sequence(mode, deployment.num_speculative_tokens)


def logged_kv_tokens(
    profile: EngineProfile,
    groups: tuple[KvCacheGroup, ...],
    num_blocks: int,
    max_model_len: int,
    batched_tokens: int,
) -> int:
    """The "GPU KV cache size: N tokens" the version prints: the pool
    (``num_blocks // groups · block``) or ``int(max_concurrency · max_model_len)``."""
    if profile.logged_kv_tokens == "concurrency":
        return concurrency_tokens(num_blocks, groups, max_model_len, batched_tokens)
    return allocator_tokens(num_blocks, groups)
