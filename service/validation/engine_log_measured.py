"""What one ``engine_memory_logs.json`` start-up log measured: its ``reported`` figures
(weights and KV cache per GPU, KV-cache tokens) under the names each engine prints them.
"""

from __future__ import annotations

from typing import Any


def reported_number(reported: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    """The first of ``keys`` (dotted paths into ``reported``) the log gives as a number."""
    for key in keys:
        path = key.split(".")
        value: Any = reported
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def measured_weights_gib(reported: dict[str, Any]) -> float | None:
    """Weights per GPU as the engine logged them (vLLM "Model loading took", SGLang
    "mem usage", TensorRT-LLM "Loaded engine size" in MiB)."""
    gib = reported_number(
        reported,
        (
            "memory_profiling.weights_memory_GiB",
            "model_loading_GiB",
            "model_loading_GiB_per_rank",
            "weights_mem_usage_GB",
        ),
    )
    if gib is None and (mib := reported_number(reported, ("loaded_engine_MiB",))) is not None:
        gib = mib / 1024
    return gib


def measured_kv(reported: dict[str, Any]) -> tuple[float | None, int | None]:
    """(KV-cache GiB per GPU, KV-cache tokens) as logged."""
    gib = reported_number(
        reported, ("available_kv_cache_GiB", "available_kv_cache_GiB_per_gpu", "kv_allocated_GiB")
    )
    if gib is None and "k_size_GB" in reported:
        gib = float(reported["k_size_GB"]) + float(reported.get("v_size_GB", 0))
    tokens = reported_number(reported, ("gpu_kv_cache_tokens", "kv_tokens", "kv_max_tokens"))
    return gib, None if tokens is None else int(tokens)
