"""KV-cache capacity predicted by the engine model against vLLM start-up logs.

For each ``vllm_memory.json`` datapoint: the model and GPU total **from the log** (the GPU
line gives ``total_gpu_memory`` in GiB), the log's TP, ``gpu_memory_utilization``,
``max_model_len``, dtype and block size, and the engine profile of the log's vLLM version.
Prediction: ``capacity().kv_cache_tokens`` (blocks x block size) with the loaded-model bytes
(parameters + RoPE cache). Measurement, best first: ``num_gpu_blocks`` x block size;
``max_tokens_in_kv_cache``; a printed KV size in GiB / bytes per token; else the KV memory
the log's own breakdown implies (usable - weights - non-torch - activation).

Today's engines against ``engine_memory_logs.json``: :mod:`service.validation.engine_log_check`.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from service.domain.capacity import Deployment, capacity
from service.domain.engine import EngineCatalog, EngineProfile, loaded_model_bytes
from service.domain.kv_cache import kv_cache_bytes_per_token, resolve_kv_precision
from service.domain.units import GIB
from service.domain.weights import resolve_weight_precision, weight_memory
from service.validation.models import resolve_gpu, resolve_model

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


class KvCheck(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    model: str
    gpu: str
    tensor_parallel: int
    max_model_len: int
    engine: str
    predicted_tokens: int
    measured_tokens: float
    measured_from: str
    predicted_kv_gib: float
    error_pct: float


def first_number(text: Any) -> float:
    """The first number in a value such as ``"default (8192)"`` or ``"H100 (79.22 GiB)"``."""
    if isinstance(text, int | float):
        return float(text)
    match = re.search(r"\d+(?:\.\d+)?", str(text))
    if match is None:
        raise ValueError(f"no number in {text!r}")
    return float(match.group())


def gpu_total_bytes(gpu_field: str) -> int:
    """``total_gpu_memory`` as the log printed it: the number before 'GiB'; a field without
    one falls back to the catalog GPU's runtime-visible total."""
    match = re.search(r"(\d+(?:\.\d+)?)\s*GiB", gpu_field)
    if match is None:
        return resolve_gpu(gpu_field).memory_bytes
    return round(float(match.group(1)) * GIB)


def resolve_engine(engines: EngineCatalog, version_text: str) -> EngineProfile:
    """The profile for a log's version: an explicit ``x.y.z``, else its month, else default.

    The newest profile not newer than the version (or release month) is used.
    """
    profiles = sorted(
        (p for p in engines.profiles.values() if p.name == "vllm"),
        key=lambda p: _version_key(p.version),
    )
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", version_text)
    if match:
        wanted = tuple(int(part) for part in match.groups())
        older = [p for p in profiles if _version_key(p.version) <= wanted]
        return older[-1] if older else profiles[0]
    month = re.search(r"\b([A-Za-z]{3})[a-z]* (\d{4})\b", version_text)
    if month and month.group(1).lower() in _MONTHS:
        stamp = f"{month.group(2)}-{_MONTHS.index(month.group(1).lower()) + 1:02d}"
        released = [p for p in profiles if p.released and p.released <= stamp]
        if released:
            return max(released, key=lambda p: p.released)
    return engines.get()


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _measured(point: dict[str, Any], block: int, bytes_per_token: int) -> tuple[float, str]:
    reported = point["reported"]
    if "num_gpu_blocks" in reported:
        return float(reported["num_gpu_blocks"] * block), "num_gpu_blocks"
    for key, value in reported.items():
        if re.fullmatch(r"(max_tokens_in_kv_cache|.*kv_cache.*tokens|.*tokens.*kv_cache)", key):
            return first_number(value), key
    for key in ("available_kv_cache_memory_GiB", "kv_cache_size_GiB"):
        if key in reported:
            return reported[key] * GIB / bytes_per_token, key
    weights = reported.get("model_weights_GiB_per_gpu", reported.get("model_weights_GiB"))
    implied = (
        reported["usable_GiB"]
        - weights
        - reported["non_torch_memory_GiB"]
        - reported["activation_peak_GiB"]
    )
    return implied * GIB / bytes_per_token, "derived from the logged breakdown"


def check_kv_capacity(point: dict[str, Any], engines: EngineCatalog) -> KvCheck:
    """Predict one log's KV capacity in tokens and compare (module doc)."""
    model = resolve_model(point["model"])
    arch = model.architecture
    tp = int(point.get("tensor_parallel_size", point.get("gpu_count", 1)))
    profile = resolve_engine(engines, str(point.get("vllm_version", "")))
    block = int(point.get("block_size", profile.block_size_tokens))
    profile = msgspec.structs.replace(profile, block_size_tokens=block)
    weights = resolve_weight_precision(arch, str(point.get("dtype", "auto")).split()[0])
    kv = resolve_kv_precision(arch, str(point.get("kv_cache_dtype", "auto")))
    max_len = int(first_number(point.get("max_model_len", arch.max_context_tokens)))
    deployment = Deployment(
        gpu_memory_bytes=gpu_total_bytes(str(point["gpu"])),
        tensor_parallel=tp,
        weight_precision=weights,
        kv_precision=kv,
        gpu_memory_utilization=float(point.get("gpu_memory_utilization", 0.9)),
    )
    loaded = loaded_model_bytes(
        arch, weight_memory(arch, model.parameters, weights, tp).per_gpu_bytes
    )
    cap = capacity(arch, loaded, deployment, profile, max_len, with_max_context=False)
    per_token = kv_cache_bytes_per_token(arch, kv, tp)
    measured, source = _measured(point, block, per_token)
    return KvCheck(
        id=str(point["id"]),
        model=str(point["model"]),
        gpu=str(point["gpu"]),
        tensor_parallel=tp,
        max_model_len=max_len,
        engine=profile.id,
        predicted_tokens=cap.kv_cache_tokens,
        measured_tokens=measured,
        measured_from=source,
        predicted_kv_gib=cap.kv_cache_tokens * per_token / GIB,
        error_pct=(cap.kv_cache_tokens / measured - 1) * 100,
    )
