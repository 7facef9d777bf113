"""Engine profiles as data: the constants of one engine version's start-up memory
accounting, with their sources, and how a request names one (``vllm``, ``vllm==0.19.0``).

``catalog/engines.yaml`` holds the profiles (read by :mod:`service.catalog_files`); this
module validates the parsed document and does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.host_launch import NO_FLOOR, EagerPrefill
from service.domain.latency import Serving
from service.domain.precision import Precision
from service.domain.saturation import ContinuousBatching

ENGINE_KINDS = ("vllm-v0", "vllm-v1", "sglang", "trtllm")

MAMBA_CACHE_MODES = ("none", "align")
"""vLLM ``CacheConfig.mamba_cache_mode`` values capplan models (``all``, every block's
state kept for prefix caching, is not)."""

LOGGED_KV_TOKENS = ("pool", "concurrency")
"""How a vLLM version computes the "GPU KV cache size: N tokens" line: ``pool`` is
``num_blocks // groups · block`` (``_report_kv_cache_config`` of 2025), ``concurrency`` is
``int(max_concurrency · max_model_len)`` (``get_kv_cache_capacity``)."""

MXFP4_ACTIVATIONS = ("fp8", "bf16")
"""What an engine may quantise an MXFP4 checkpoint's activations to
(:attr:`EngineProfile.mxfp4_activations`)."""
"""How an engine sizes its KV cache; each kind has its own budget module in
:mod:`service.domain.engines`."""


class BatchDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """One row of vLLM ``EngineArgs.get_batch_defaults`` for ``vllm serve``: applies to GPUs
    with at least ``min_gpu_memory_bytes`` whose name contains none of ``excluded_gpu_names``."""

    min_gpu_memory_bytes: int = 0
    excluded_gpu_names: tuple[str, ...] = ()
    max_num_batched_tokens: int = 2048
    max_num_seqs: int = 256


class MemFractionRule(msgspec.Struct, frozen=True, kw_only=True):
    """One row of SGLang's default ``mem_fraction_static`` (``ServerArgs.__post_init__``).

    Either a fixed ``fraction`` for ``tensor_parallel >= min_tensor_parallel``, or, when
    ``reserved_mib`` is set, ``(gpu_mem − reserved) / gpu_mem`` with
    ``reserved = (reserved_mib + reserved_mib_per_gpu · tp · pp)`` for GPUs below
    ``below_gpu_mib`` (gpu_mem in MiB, as SGLang reads it).
    """

    min_tensor_parallel: int = 1
    fraction: float | None = None
    below_gpu_mib: float | None = None
    reserved_mib: float | None = None
    reserved_mib_per_gpu: float = 0.0


class RunningRequestsRule(msgspec.Struct, frozen=True, kw_only=True):
    """SGLang's default ``--max-running-requests`` (unset), from the KV token pool.

    ``ModelRunner.init_memory_pool`` sizes the request table (``req_to_token_pool``) and the
    worker caps the running requests by it and by half the token pool
    (``python/sglang/srt/model_executor/model_runner.py``, ``managers/tp_worker.py``)::

        max_num_reqs = clamp(int(max_total_num_tokens / context_len · requests_per_context),
                             min_requests, max_requests)
        pool_size    = max_num_reqs + extra_slots
        max_running_requests = min(max_total_num_tokens // tokens_per_request, pool_size)

    per data-parallel attention rank (each sizes its own pool).
    """

    requests_per_context: int = 512
    min_requests: int = 2048
    max_requests: int = 4096
    extra_slots: int = 0
    tokens_per_request: int = 2


class EngineProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Constants of one engine version's memory accounting, with where they come from.

    * ``block_size_tokens``: PagedAttention block (vLLM ``CacheConfig.DEFAULT_BLOCK_SIZE``).
    * ``activation_bytes_per_token_width``: the profile run's forward-pass peak per batched
      token per unit of ``(mlp_width/t + d)``.
    * ``sampler_bytes_per_logit``: the sampler warm-up's peak per element of the
      ``[max_num_seqs, vocab]`` logits; the activation peak is the larger of the two.
    * ``non_torch_bytes``: CUDA context, library workspaces and whatever else the version's
      profiler counts outside torch; ``nccl_bytes`` is added once tensor parallelism is on.
    * ``min_batched_tokens``: without chunked prefill the profile run batches
      ``max(max_model_len, min_batched_tokens)`` tokens; ``chunked_prefill_tokens`` caps it.
      ``auto_chunked_prefill_above``: the engine turns chunked prefill on by itself above this
      ``max_model_len`` (vLLM V0: 32K), with ``auto_chunked_prefill_tokens`` per step (512).
    * ``max_num_seqs``: the engine's default cap on sequences running at once when the
      request sets none (vLLM ``--max-num-seqs``, TensorRT-LLM ``--max_batch_size``), which
      is also the number of logits rows vLLM's sampler warm-up takes. vLLM V1 takes it from
      the ``batch_defaults`` row the GPU qualifies for first; SGLang derives it from the
      token pool (``running_requests``).
    * ``fitted``: which constants were read off a log (the rest are engine defaults).
    """

    name: str
    version: str
    kind: str = "vllm-v0"
    released: str = ""
    worker: str = ""
    block_size_tokens: int = 16
    gpu_memory_utilization: float = 0.9
    max_num_seqs: int = 256
    activation_bytes_per_token_width: float = 6.0
    sampler_bytes_per_logit: float = 0.0
    non_torch_bytes: int = 0
    nccl_bytes: int = 0
    cudagraph_bytes: int = 0
    min_batched_tokens: int = 2048
    chunked_prefill_tokens: int | None = None
    auto_chunked_prefill_above: int | None = None
    auto_chunked_prefill_tokens: int = 512
    hybrid_kv_allocator: bool = True
    chunked_local_hybrid: bool = True
    """vLLM ``VLLM_ALLOW_CHUNKED_LOCAL_ATTN_WITH_HYBRID_KV_CACHE`` default: when False, a model
    with chunked local attention (Llama 4) runs without the hybrid allocator and its chunked
    layers cache like full ones (vllm#21761 added the flag off; vllm#29627 turned it on)."""
    mamba_cache_mode_prefix_caching: str = "none"
    """vLLM ``mamba_cache_mode`` of state layers (Mamba, linear attention) when prefix
    caching is on; ``none`` without it (one state block per sequence, ``align``: two)."""
    prefix_caching_default: bool = False
    """Whether prefix caching is on for hybrid state models when the request does not say."""
    logged_kv_tokens: str = "pool"
    """How the "GPU KV cache size" line counts tokens (:data:`LOGGED_KV_TOKENS`)."""
    batch_defaults: tuple[BatchDefaults, ...] = ()
    running_requests: RunningRequestsRule | None = None
    """SGLang: how the default ``--max-running-requests`` follows from the token pool
    (:class:`RunningRequestsRule`); required for ``kind: sglang``, unused by the others."""
    hidden_state_bytes_per_element: float = 0.0
    moe_workspace_bytes_per_element: float = 0.0
    cudagraph_bytes_per_layer: int = 0
    subtracts_cudagraph_estimate: bool = False
    mem_fraction_static: tuple[MemFractionRule, ...] = ()
    kv_cache_free_gpu_mem_fraction: float = 0.9
    pads_mxfp4_experts: bool = False
    mxfp4_activations: str = "bf16"
    """What an MXFP4 checkpoint's activations become on chips with MXFP4 tensor cores
    (Blackwell): ``fp8`` (W4A8 with MXFP8 activations, at the FP8 rate: TensorRT-LLM
    ``ModelConfig.get_mxfp4_quant_algo`` on sm100+, SGLang's FlashInfer trtllm-gen MoE) or
    ``bf16`` (W4A16 at the 16-bit rate: vLLM's default SM100 backend; the default, so an
    entry claims the faster path only with its source)."""
    mtp_shares_lm_head: bool = False
    """Whether an MTP proposer's own LM-head copy (DeepSeek layout ``shared_head.head``) is
    replaced by the target's at load, so none stays resident (vLLM from vllm#34385, SGLang
    ``set_embed_and_head``); False prices the copy. Every engines.yaml entry states it."""
    eager_prefill: EagerPrefill = NO_FLOOR
    """Host time per decoder layer of a prompt step the engine runs eagerly, by kind of
    layer (:mod:`service.domain.host_launch`): a floor under such steps. Zero (the default)
    where the engine graphs its prompt steps or no log measures it; each entry that sets it
    names its logs in ``fitted``."""
    accounting: str = ""
    fitted: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    validated_against: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def mxfp4_activation_precision(self) -> Precision:
        """:attr:`mxfp4_activations` as a :class:`Precision`."""
        return Precision(self.mxfp4_activations)

    @property
    def spec(self) -> str:
        """How a request names this profile: ``vllm==0.19.0``."""
        return f"{self.name}=={self.version}"


def on_engine(
    serving: Serving, profile: EngineProfile, settings: Mapping[str, Any] | None = None
) -> Serving:
    """``serving`` as ``profile``'s engine runs it: the precision it quantises MXFP4
    checkpoints' activations to, its host floor under eager prompt steps, and how often its
    scheduler looks for new requests (``settings``, the question's engine knobs as
    :class:`~service.domain.deployment.Deployment` fields: ``scheduler_recv_interval``, else
    every step). Questions and the plan search take the engine's share of
    :class:`~service.domain.latency.Serving` from here."""
    interval = (settings or {}).get("scheduler_recv_interval")
    return msgspec.structs.replace(
        serving,
        mxfp4_activations=profile.mxfp4_activation_precision,
        eager_prefill=profile.eager_prefill,
        admission_interval_steps=1 if interval is None else int(interval),
    )


class UnknownEngine(LookupError):
    """A request named an engine or version the catalog has no profile for."""

    def __init__(self, requested: str, known: list[str]) -> None:
        super().__init__(
            f"unknown engine '{requested}'; known: {', '.join(known)} "
            "(a name alone means its newest profile)"
        )
        self.requested = requested
        self.known = known


def version_key(version: str) -> tuple[int, ...]:
    """``0.19.0`` -> ``(0, 19, 0)`` for ordering releases."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


class EngineCatalog(msgspec.Struct, frozen=True, kw_only=True):
    """Every profile by id, the one used when a caller names none, and the steady-state
    batching limits of engines measured at saturation (``batching:`` in the file)."""

    profiles: dict[str, EngineProfile]
    default: str
    batching: dict[str, ContinuousBatching] = msgspec.field(default_factory=dict)

    def get(self, engine_id: str | None = None) -> EngineProfile:
        key = engine_id or self.default
        try:
            return self.profiles[key]
        except KeyError:
            raise KeyError(f"unknown engine profile '{key}' ({sorted(self.profiles)})") from None

    def known_specs(self) -> list[str]:
        """Every accepted ``engine`` value: names alone, then ``name==version`` ones."""
        names = sorted({p.name for p in self.profiles.values()})
        return names + sorted(p.spec for p in self.profiles.values())

    def resolve(self, requested: str | None) -> EngineProfile:
        """``None`` -> the default; ``"vllm"`` -> its newest profile; ``"vllm==0.19.0"``
        (or the id ``vllm-0.19.0``) -> that one. Anything else raises :class:`UnknownEngine`."""
        if requested is None or not requested.strip():
            return self.get()
        text = requested.strip().lower()
        if text in self.profiles:
            return self.profiles[text]
        name, sep, version = text.partition("==")
        matching = [p for p in self.profiles.values() if p.name == name.strip()]
        if sep:
            matching = [p for p in matching if p.version == version.strip().lstrip("v")]
        if not matching:
            raise UnknownEngine(requested, self.known_specs())
        return max(matching, key=lambda p: version_key(p.version))


REQUIRED_BOOLEANS = ("mtp_shares_lm_head",)
"""Profile fields each engines.yaml entry must state (true or false): no default is safe."""


def engine_catalog_from_document(document: Mapping[str, Any]) -> EngineCatalog:
    """Validate a parsed ``engines.yaml``: ids must read ``<name>-<version>`` and be unique,
    and every entry states :data:`REQUIRED_BOOLEANS` as true or false."""
    entries = msgspec.convert(document.get("engines"), list[dict[str, Any]])
    profiles: dict[str, EngineProfile] = {}
    for entry in entries:
        entry_id = str(entry.pop("id", ""))
        for field in REQUIRED_BOOLEANS:
            if not isinstance(entry.get(field), bool):
                raise ValueError(
                    f"engine '{entry_id}': {field} must be true or false, got {entry.get(field)!r}"
                )
        try:
            profile = msgspec.convert(entry, EngineProfile)
        except msgspec.ValidationError as error:
            raise ValueError(f"engine '{entry_id}': {error}") from error
        if entry_id != profile.id or entry_id in profiles:
            raise ValueError(f"engine id '{entry_id}' must be unique and equal '{profile.id}'")
        if profile.kind not in ENGINE_KINDS:
            raise ValueError(f"engine '{entry_id}': kind '{profile.kind}' not in {ENGINE_KINDS}")
        if profile.mamba_cache_mode_prefix_caching not in MAMBA_CACHE_MODES:
            raise ValueError(f"engine '{entry_id}': mamba_cache_mode not in {MAMBA_CACHE_MODES}")
        if profile.logged_kv_tokens not in LOGGED_KV_TOKENS:
            raise ValueError(f"engine '{entry_id}': logged_kv_tokens not in {LOGGED_KV_TOKENS}")
        if profile.mxfp4_activations not in MXFP4_ACTIVATIONS:
            raise ValueError(f"engine '{entry_id}': mxfp4_activations not in {MXFP4_ACTIVATIONS}")
        if profile.kind == "sglang" and profile.running_requests is None:
            raise ValueError(
                f"engine '{entry_id}': kind sglang needs running_requests (the default "
                "--max-running-requests)"
            )
        profiles[entry_id] = profile
    default = str(document.get("default", ""))
    if default not in profiles:
        raise ValueError(f"default engine '{default}' is not one of {sorted(profiles)}")
    batching = msgspec.convert(document.get("batching") or [], list[ContinuousBatching])
    return EngineCatalog(
        profiles=profiles, default=default, batching={entry.name: entry for entry in batching}
    )
