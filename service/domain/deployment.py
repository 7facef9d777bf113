"""The serving question's knobs and the per-GPU memory split an engine answers with.

Shared by every engine's budget module (:mod:`service.domain.engines`) and by
:mod:`service.domain.capacity`; field names follow the engines' own flags.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.domain.precision import Precision


class Deployment(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how a model is served.

    ``gpu_memory_bytes`` is the total the runtime reports. ``None`` knobs take the engine's
    default for this GPU (vLLM ``--max-num-seqs`` / ``--max-num-batched-tokens``, SGLang
    ``--mem-fraction-static``, TensorRT-LLM ``kv_cache_free_gpu_mem_fraction``).
    ``max_model_len`` drives vLLM's profile run; ``None`` means the context asked about.
    """

    gpu_memory_bytes: int
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    weight_precision: Precision = Precision.BF16
    kv_precision: Precision = Precision.BF16
    gpu_memory_utilization: float = 0.9
    max_num_seqs: int | None = None
    gpu_name: str = ""
    max_model_len: int | None = None
    max_num_batched_tokens: int | None = None
    enforce_eager: bool = False
    kv_cache_memory_bytes: int | None = None
    block_size_tokens: int | None = None
    mem_fraction_static: float | None = None
    kv_cache_free_gpu_mem_fraction: float | None = None
    mm_items_per_prompt: int | None = None
    """vLLM ``--limit-mm-per-prompt`` (the largest modality's limit): None is the engine
    default, 0 text-only (``--language-model-only``: no tower built, so no tower weights, no
    encoder profiling, no encoder cache)."""
    prefix_caching: bool | None = None
    """vLLM ``--enable-prefix-caching``: None is the engine profile's default for hybrid
    state models; it sets how many state blocks a sequence holds (``mamba_cache_mode``)."""
    attention_data_parallel: bool = False
    """Attention data parallelism over the ``tensor_parallel`` GPUs (TensorRT-LLM
    ``enable_attention_dp``, SGLang ``--enable-dp-attention``, vLLM ``-dp`` with expert
    parallelism): each rank keeps its own sequences' cache unsharded (every KV head, or MLA's
    whole latent) and schedules its own batch, so the group holds ``tensor_parallel`` times
    what one rank holds, while one sequence lives on one rank."""
    num_speculative_tokens: int = 0
    """MTP speculative tokens (vLLM ``speculative_config.num_speculative_tokens``): the
    draft layers cache too and state layers keep one more block and conv row per token."""
    scheduler_recv_interval: int | None = None
    """SGLang ``--scheduler-recv-interval``: decode steps between the scheduler's looks for
    new requests (None: every step). No memory effect; it sets the steady state's wait
    (:attr:`~service.domain.latency.Serving.admission_interval_steps`)."""


class MemoryBudget(msgspec.Struct, frozen=True, kw_only=True):
    """Per-GPU memory, in bytes, as the engine divides it at start-up.

    vLLM: ``kv_cache = usable − weights − activation − non_torch − cudagraph`` with
    ``usable = total · gpu_memory_utilization``. SGLang and TensorRT-LLM size the pool from
    the memory free after loading (see their modules); ``usable`` is then what their
    fraction leaves for weights and KV cache.
    """

    total: Annotated[int, msgspec.Meta(description="Memory of one GPU in bytes (per GPU)")]
    usable: Annotated[
        int,
        msgspec.Meta(
            description="Bytes per GPU the engine may use: total x gpu_memory_utilization (vLLM)"
        ),
    ]
    weights: Annotated[int, msgspec.Meta(description="Bytes of weights per GPU (this GPU's shard)")]
    activation: Annotated[
        int,
        msgspec.Meta(description="Bytes per GPU of peak activations in the start-up profile run"),
    ]
    non_torch: Annotated[
        int,
        msgspec.Meta(description="Bytes per GPU outside PyTorch's allocator (NCCL, CUDA context)"),
    ]
    cudagraph: Annotated[int, msgspec.Meta(description="Bytes per GPU of captured CUDA graphs")]
    kv_cache: Annotated[int, msgspec.Meta(description="Bytes per GPU left for the KV cache")]

    @property
    def beside_kv_bytes(self) -> int:
        """What the engine holds per GPU besides the KV cache: weights, activations, memory
        outside PyTorch and CUDA graphs."""
        return self.weights + self.activation + self.non_torch + self.cudagraph
