"""The serving engine's own memory: what it reserves before the KV cache gets the rest.

vLLM's start-up accounting (formula sheet §2.5, ``Worker.determine_num_available_blocks``
/ ``determine_available_memory``)::

    kv_budget = total · gpu_memory_utilization − weights − activation_peak − non_torch − cudagraph

    weights         = parameters on the GPU + RoPE cos/sin cache (max_position · rotary_dim · 2 B)
    activation_peak = max(tokens · c · (mlp_width/t + d),           forward pass (profile run)
                          max_num_seqs · V · s)                     sampler warm-up on the logits
    non_torch       = non_torch_bytes + (nccl_bytes if t > 1)

``gpu_memory_utilization`` applies to the device **total**, weights included. The constants
(``c``, ``s``, non-torch bytes) belong to one engine version's profiler: they are data in
``catalog/engines.yaml`` with the logs they were read from, loaded by
:func:`service.catalog_files.load_engine_profiles`; nothing here is a literal of one
deployment, and this module does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import Architecture
from service.domain.saturation import ContinuousBatching

ENGINE_KINDS = ("vllm-v0", "vllm-v1", "sglang", "trtllm")
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
    batch_defaults: tuple[BatchDefaults, ...] = ()
    hidden_state_bytes_per_element: float = 0.0
    moe_workspace_bytes_per_element: float = 0.0
    cudagraph_bytes_per_layer: int = 0
    subtracts_cudagraph_estimate: bool = False
    mem_fraction_static: tuple[MemFractionRule, ...] = ()
    kv_cache_free_gpu_mem_fraction: float = 0.9
    pads_mxfp4_experts: bool = False
    accounting: str = ""
    fitted: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    validated_against: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.name}-{self.version}"

    @property
    def spec(self) -> str:
        """How a request names this profile: ``vllm==0.19.0``."""
        return f"{self.name}=={self.version}"


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


def engine_catalog_from_document(document: Mapping[str, Any]) -> EngineCatalog:
    """Validate a parsed ``engines.yaml``: ids must read ``<name>-<version>`` and be unique."""
    entries = msgspec.convert(document.get("engines"), list[dict[str, Any]])
    profiles: dict[str, EngineProfile] = {}
    for entry in entries:
        entry_id = str(entry.pop("id", ""))
        profile = msgspec.convert(entry, EngineProfile)
        if entry_id != profile.id or entry_id in profiles:
            raise ValueError(f"engine id '{entry_id}' must be unique and equal '{profile.id}'")
        if profile.kind not in ENGINE_KINDS:
            raise ValueError(f"engine '{entry_id}': kind '{profile.kind}' not in {ENGINE_KINDS}")
        profiles[entry_id] = profile
    default = str(document.get("default", ""))
    if default not in profiles:
        raise ValueError(f"default engine '{default}' is not one of {sorted(profiles)}")
    batching = msgspec.convert(document.get("batching") or [], list[ContinuousBatching])
    return EngineCatalog(
        profiles=profiles, default=default, batching={entry.name: entry for entry in batching}
    )


def batched_tokens(profile: EngineProfile, max_model_len: int) -> int:
    """Tokens in the start-up profiling forward pass."""
    if profile.chunked_prefill_tokens is not None:
        return profile.chunked_prefill_tokens
    threshold = profile.auto_chunked_prefill_above
    if threshold is not None and max_model_len > threshold:
        return profile.auto_chunked_prefill_tokens
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


def rope_cache_bytes(arch: Architecture) -> int:
    """vLLM's rotary cos/sin cache, ``max_position · rotary_dim`` 16-bit values."""
    rotary_dim = arch.mla.qk_rope_head_dim if arch.mla is not None else arch.head_dim
    return arch.max_context_tokens * rotary_dim * 2


def loaded_model_bytes(arch: Architecture, weights_per_gpu_bytes: int) -> int:
    """What vLLM's "model weights take" reports: the parameters plus buffers made at load.

    Llama-3.1-8B: 14.957 GiB of parameters + a 0.031 GiB RoPE cache (131,072 positions x 128)
    = the 14.9888 GiB logged in vllm#10517. Pass this as the weights to ``capacity``.
    """
    return weights_per_gpu_bytes + rope_cache_bytes(arch)


def activation_peak_bytes(
    arch: Architecture, profile: EngineProfile, max_model_len: int, tensor_parallel: int = 1
) -> int:
    """Torch memory above the parameters at the profile run's peak (see the module formula).

    The forward pass and the sampler warm-up run one after the other, so the peak is the
    larger of the two, not their sum: this is why vLLM logged the same 1.26 GiB for
    Meta-Llama-3-8B at TP1 and TP2 (vllm#10511) although the MLP activations halve.
    Logits are gathered to the full vocabulary on the driver rank, so that term is not
    divided by ``t``.
    """
    width = mlp_width(arch) / tensor_parallel + arch.hidden_size
    tokens = batched_tokens(profile, max_model_len)
    forward = tokens * profile.activation_bytes_per_token_width * width
    sampler = profile.max_num_seqs * arch.vocab_size * profile.sampler_bytes_per_logit
    return int(max(forward, sampler))


def non_torch_bytes(profile: EngineProfile, tensor_parallel: int) -> int:
    """CUDA context and libraries, plus NCCL buffers once tensor parallelism is on."""
    return profile.non_torch_bytes + (profile.nccl_bytes if tensor_parallel > 1 else 0)
