"""Which memory and scheduler knobs each engine has, spelled as its own flag.

A question may set a knob only for an engine that has it; the flag names say where each
engine reads it (vLLM ``vllm/engine/arg_utils.py`` ``EngineArgs``; SGLang
``python/sglang/srt/server_args.py`` ``ServerArgs``; TensorRT-LLM ``trtllm-serve``
options / ``KvCacheConfig``). Knob names are the fields of
:class:`service.domain.deployment.Deployment`.
"""

from __future__ import annotations

from collections.abc import Mapping

from service.domain.engines.profile import EngineProfile

_VLLM = {
    "max_num_seqs": "--max-num-seqs",
    "max_num_batched_tokens": "--max-num-batched-tokens",
    "block_size_tokens": "--block-size",
    "enforce_eager": "--enforce-eager",
    "mm_items_per_prompt": "--limit-mm-per-prompt",
}

ENGINE_KNOBS: Mapping[str, Mapping[str, str]] = {
    "vllm-v0": _VLLM,
    "vllm-v1": _VLLM | {"kv_cache_memory_bytes": "--kv-cache-memory-bytes"},
    "sglang": {
        "max_num_seqs": "--max-running-requests",
        "max_num_batched_tokens": "--chunked-prefill-size",
        "mem_fraction_static": "--mem-fraction-static",
        "scheduler_recv_interval": "--scheduler-recv-interval",
    },
    "trtllm": {
        "max_num_seqs": "--max_batch_size",
        "max_num_batched_tokens": "--max_num_tokens",
        "kv_cache_free_gpu_mem_fraction": "--kv_cache_free_gpu_memory_fraction",
    },
}
"""Per engine kind, each knob it reads and the flag that sets it."""

KNOBS: frozenset[str] = frozenset(name for table in ENGINE_KNOBS.values() for name in table)
"""Every knob some engine has."""


def foreign_knobs(profile: EngineProfile, knobs: Mapping[str, object]) -> list[str]:
    """The knobs set (not ``None``) in ``knobs`` that ``profile``'s engine does not have."""
    own = ENGINE_KNOBS.get(profile.kind, {})
    return [name for name, value in knobs.items() if value is not None and name not in own]


def engines_with(knob: str) -> list[str]:
    """The engine kinds that have ``knob``, with its flag: ``vllm-v1 (--block-size)``."""
    return [f"{kind} ({table[knob]})" for kind, table in ENGINE_KNOBS.items() if knob in table]
