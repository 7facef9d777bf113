"""Engine profiles and the engine's own memory, under their historical import path.

The pieces live in :mod:`service.domain.engines`: ``profile`` (the data classes, engine
selection), ``model_memory`` (parameters + RoPE cache as loaded, MLP width), ``vllm_v0``,
``vllm_v1``, ``sglang``, ``trtllm`` (each engine's start-up budget). This module re-exports
the names callers have always imported from here.
"""

from __future__ import annotations

from service.domain.engines.model_memory import loaded_model_bytes, mlp_width, rope_cache_bytes
from service.domain.engines.profile import (
    ENGINE_KINDS,
    BatchDefaults,
    EngineCatalog,
    EngineProfile,
    MemFractionRule,
    UnknownEngine,
    engine_catalog_from_document,
    version_key,
)
from service.domain.engines.vllm_v0 import activation_peak_bytes, batched_tokens, non_torch_bytes

__all__ = [
    "ENGINE_KINDS",
    "BatchDefaults",
    "EngineCatalog",
    "EngineProfile",
    "MemFractionRule",
    "UnknownEngine",
    "activation_peak_bytes",
    "batched_tokens",
    "engine_catalog_from_document",
    "loaded_model_bytes",
    "mlp_width",
    "non_torch_bytes",
    "rope_cache_bytes",
    "version_key",
]
