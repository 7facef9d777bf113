"""KV-cache capacity predicted by the engine model against vLLM start-up logs.

For each ``vllm_memory.json`` datapoint: the model and GPU total **from the log** (the GPU
line gives ``total_gpu_memory`` in GiB), the log's TP, ``gpu_memory_utilization``,
``max_model_len``, dtype and block size, and the engine profile of the log's vLLM version.
Prediction: ``capacity().kv_cache_tokens`` (blocks x block size) with the loaded-model bytes
(parameters + RoPE cache). Measurement, best first: ``num_gpu_blocks`` x block size;
``max_tokens_in_kv_cache``; a printed KV size in GiB / bytes per token; else the KV memory
the log's own breakdown implies (usable - weights - non-torch - activation).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from service.domain.architecture import Architecture, InvalidConfig, UnsupportedArchitecture
from service.domain.capacity import Deployment, KvLayout, capacity, kv_layout, memory_budget
from service.domain.engine import EngineCatalog, EngineProfile, loaded_model_bytes
from service.domain.engines.sglang import default_mem_fraction_static
from service.domain.engines.sglang import pool_bytes as sglang_pool_bytes
from service.domain.engines.trtllm import pool_bytes as trtllm_pool_bytes
from service.domain.engines.vllm_v1 import cudagraph_estimate_bytes, logged_kv_tokens
from service.domain.hf_config import architecture_from_config
from service.domain.kernel_layout import ExpertPadding, vllm_mxfp4_expert_padding
from service.domain.kv_cache import kv_cache_bytes_per_token, resolve_kv_precision
from service.domain.units import GIB
from service.domain.weights import resolve_weight_precision, weight_memory
from service.validation.engine_logs import (
    CHECKPOINTS,
    LogSettings,
    gpu_total,
    log_settings,
    number,
    unmodelled_architecture,
)
from service.validation.models import UnknownName, resolve_gpu, resolve_model

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


# --- Today's engines: engine_memory_logs.json ------------------------------------------------


class EngineLogCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One start-up log against capplan: signed errors (predicted / measured − 1, in %) of
    the weights, the KV-cache memory and the KV-cache tokens, where the log has them.

    ``status`` is ``checked``, ``weights only: <what the log does not state>``,
    ``allocator only: <why>`` (the budget cannot be predicted, but the log's KV memory laid
    out by the allocator is checked against its tokens: ``allocator_kv_tokens``), or
    ``not modelled: <why>``; ``inputs_from_log`` names measured figures used as inputs.
    """

    id: str
    engine: str
    model: str
    gpu: str
    tensor_parallel: int
    status: str
    inputs_from_log: str = ""
    predicted_weights_gib: float | None = None
    measured_weights_gib: float | None = None
    predicted_kv_gib: float | None = None
    measured_kv_gib: float | None = None
    predicted_kv_tokens: int | None = None
    measured_kv_tokens: int | None = None
    predicted_cudagraph_gib: float | None = None
    measured_cudagraph_gib: float | None = None
    predicted_max_concurrency: float | None = None
    measured_max_concurrency: float | None = None
    allocator_kv_tokens: int | None = None

    @property
    def modelled(self) -> bool:
        return not self.status.startswith("not modelled")

    @property
    def weights_error_pct(self) -> float | None:
        return _error(self.predicted_weights_gib, self.measured_weights_gib)

    @property
    def kv_memory_error_pct(self) -> float | None:
        """None when the log's KV memory is not positive (the start-up failed)."""
        if self.measured_kv_gib is not None and self.measured_kv_gib <= 0:
            return None
        return _error(self.predicted_kv_gib, self.measured_kv_gib)

    @property
    def kv_tokens_error_pct(self) -> float | None:
        return _error(self.predicted_kv_tokens, self.measured_kv_tokens)

    @property
    def allocator_tokens_error_pct(self) -> float | None:
        """Tokens the allocator makes of the log's own KV memory against the logged tokens."""
        return _error(self.allocator_kv_tokens, self.measured_kv_tokens)

    @property
    def max_concurrency_error_pct(self) -> float | None:
        """vLLM's "Maximum concurrency for N tokens per request: x" (the allocator's pages
        per request, sliding-window groups included) against the prediction."""
        return _error(self.predicted_max_concurrency, self.measured_max_concurrency)

    @property
    def cudagraph_error_pct(self) -> float | None:
        """vLLM's "Estimated CUDA graph memory" line against the per-layer estimate."""
        return _error(self.predicted_cudagraph_gib, self.measured_cudagraph_gib)


def _error(predicted: float | None, measured: float | None) -> float | None:
    if predicted is None or measured is None or measured == 0:
        return None
    return (predicted / measured - 1) * 100


def _reported_number(reported: dict[str, Any], keys: tuple[str, ...]) -> float | None:
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
    gib = _reported_number(
        reported,
        (
            "memory_profiling.weights_memory_GiB",
            "model_loading_GiB",
            "model_loading_GiB_per_rank",
            "weights_mem_usage_GB",
        ),
    )
    if gib is None and (mib := _reported_number(reported, ("loaded_engine_MiB",))) is not None:
        gib = mib / 1024
    return gib


def measured_kv(reported: dict[str, Any]) -> tuple[float | None, int | None]:
    """(KV-cache GiB per GPU, KV-cache tokens) as logged."""
    gib = _reported_number(
        reported, ("available_kv_cache_GiB", "available_kv_cache_GiB_per_gpu", "kv_allocated_GiB")
    )
    if gib is None and "k_size_GB" in reported:
        gib = float(reported["k_size_GB"]) + float(reported.get("v_size_GB", 0))
    tokens = _reported_number(reported, ("gpu_kv_cache_tokens", "kv_tokens", "kv_max_tokens"))
    return gib, None if tokens is None else int(tokens)


def check_engine_log(point: dict[str, Any], engines: EngineCatalog) -> EngineLogCheck:
    """Predict one engine_memory_logs.json datapoint (``service.validation.engine_logs``)."""
    settings = log_settings(point, engines)
    profile = settings.profile
    reported = dict(point.get("reported", {}))
    kv_gib, kv_tokens = measured_kv(reported)
    check = EngineLogCheck(
        id=str(point["id"]),
        engine=profile.id,
        model=str(point["model"]),
        gpu=str(point["gpu"]),
        tensor_parallel=settings.tensor_parallel,
        status="checked",
        measured_weights_gib=measured_weights_gib(reported),
        measured_kv_gib=kv_gib,
        measured_kv_tokens=kv_tokens,
        measured_cudagraph_gib=_reported_number(reported, ("estimated_cuda_graph_GiB",)),
    )
    replace = msgspec.structs.replace
    gap = unmodelled_architecture(point)
    if gap is not None and isinstance(point.get("architecture_config"), dict):
        return _allocator_check(point, settings, check, gap)
    if gap is not None:
        return replace(check, status=f"not modelled: {gap}")
    repo, dtype = CHECKPOINTS.get(str(point["model"]), (str(point["model"]), "auto"))
    try:
        model = resolve_model(repo)
    except (UnknownName, UnsupportedArchitecture) as exc:
        return replace(check, status=f"not modelled: {exc}")
    arch = model.architecture
    weights_precision = resolve_weight_precision(arch, dtype)
    per_gpu = weight_memory(
        arch,
        model.parameters,
        weights_precision,
        settings.tensor_parallel,
        settings.pipeline_parallel,
        expert_padding=_expert_padding(point, profile),
    ).per_gpu_bytes
    weights = loaded_model_bytes(arch, per_gpu)
    deployment = Deployment(
        gpu_memory_bytes=settings.gpu_total_bytes or _catalog_total(point),
        tensor_parallel=settings.tensor_parallel,
        pipeline_parallel=settings.pipeline_parallel,
        weight_precision=weights_precision,
        kv_precision=resolve_kv_precision(arch, settings.kv_cache_dtype),
        gpu_memory_utilization=settings.utilization or profile.gpu_memory_utilization,
        gpu_name=str(point["gpu"]),
        max_model_len=settings.max_model_len,
        max_num_seqs=settings.max_num_seqs,
        max_num_batched_tokens=settings.max_num_batched_tokens,
        enforce_eager=settings.enforce_eager,
        block_size_tokens=settings.block_size_tokens,
        prefix_caching=settings.prefix_caching,
        num_speculative_tokens=settings.num_speculative_tokens,
    )
    check = replace(check, predicted_weights_gib=weights / GIB)
    if profile.kind == "vllm-v1" and profile.cudagraph_bytes_per_layer:
        layers = -(-arch.num_layers // settings.pipeline_parallel)
        graphs = cudagraph_estimate_bytes(profile, layers)
        check = replace(check, predicted_cudagraph_gib=graphs / GIB)
    missing = _missing_settings(point, settings, deployment)
    if missing:
        return replace(check, status=f"weights only: {missing} not stated")
    kv_bytes, inputs = _kv_budget(point, profile, arch, weights, deployment)
    layout = kv_layout(arch, deployment, profile, deployment.max_model_len or 1)
    blocks = layout.num_blocks(kv_bytes)
    concurrency = reported.get("max_concurrency")
    if isinstance(concurrency, dict) and "tokens_per_request" in concurrency:
        per_request = int(concurrency["tokens_per_request"])
        pages = layout.sequence_bytes(per_request)
        check = replace(
            check,
            measured_max_concurrency=float(concurrency["x"]),
            predicted_max_concurrency=blocks * layout.block_bytes / pages if pages else None,
        )
    return replace(
        check,
        inputs_from_log=inputs,
        predicted_kv_gib=kv_bytes / GIB,
        predicted_kv_tokens=_logged_tokens(layout, blocks, profile, deployment),
    )


def _allocator_check(
    point: dict[str, Any], settings: LogSettings, check: EngineLogCheck, gap: str
) -> EngineLogCheck:
    """The log's own KV memory laid out by the allocator (tokens and concurrency), for a
    datapoint whose budget capplan cannot predict; the architecture comes from the
    datapoint's ``architecture_config`` (a public config, cited in the datapoint)."""
    replace = msgspec.structs.replace
    if check.measured_kv_gib is None:
        return replace(check, status=f"not modelled: {gap}")
    try:
        arch = architecture_from_config(point["architecture_config"])
    except (InvalidConfig, UnsupportedArchitecture) as exc:
        return replace(check, status=f"not modelled: {gap}; architecture_config: {exc}")
    deployment = Deployment(
        gpu_memory_bytes=0,
        tensor_parallel=settings.tensor_parallel,
        pipeline_parallel=settings.pipeline_parallel,
        weight_precision=resolve_weight_precision(arch, "auto"),
        kv_precision=resolve_kv_precision(arch, settings.kv_cache_dtype),
        gpu_name=str(point["gpu"]),
        max_model_len=settings.max_model_len,
        max_num_seqs=settings.max_num_seqs,
        max_num_batched_tokens=settings.max_num_batched_tokens,
        block_size_tokens=settings.block_size_tokens,
        prefix_caching=settings.prefix_caching,
        num_speculative_tokens=settings.num_speculative_tokens,
    )
    layout = kv_layout(arch, deployment, settings.profile, deployment.max_model_len or 1)
    blocks = layout.num_blocks(round(check.measured_kv_gib * GIB))
    concurrency = point.get("reported", {}).get("max_concurrency")
    if isinstance(concurrency, dict) and "tokens_per_request" in concurrency:
        pages = layout.sequence_bytes(int(concurrency["tokens_per_request"]))
        check = replace(
            check,
            measured_max_concurrency=float(concurrency["x"]),
            predicted_max_concurrency=blocks * layout.block_bytes / pages if pages else None,
        )
    return replace(
        check,
        status=f"allocator only: {gap}",
        inputs_from_log="KV memory from the log",
        allocator_kv_tokens=_logged_tokens(layout, blocks, settings.profile, deployment),
    )


def _logged_tokens(
    layout: KvLayout, blocks: int, profile: EngineProfile, deployment: Deployment
) -> int:
    """The "GPU KV cache size" the engine version prints for ``blocks`` (vLLM V1: the pool
    or ``int(max_concurrency · max_model_len)``, by profile; other engines: the pool)."""
    if profile.kind != "vllm-v1" or not deployment.max_model_len:
        return layout.tokens(blocks)
    return logged_kv_tokens(
        profile, layout.groups, blocks, deployment.max_model_len, layout.batched_tokens
    )


def _expert_padding(point: dict[str, Any], profile: EngineProfile) -> ExpertPadding | None:
    """vLLM's MXFP4 MoE layout for the log's GPU (by compute capability), for releases
    that have those kernels; None where the GPU is unknown."""
    if not profile.pads_mxfp4_experts:
        return None
    name = str(point["gpu"])
    if re.search(r"\bA100\b", name) and not re.search(r"\bA100 80GB\b", name):
        name = "A100 80GB"  # every A100 is sm80, whatever its memory size
    try:
        gpu = resolve_gpu(name)
    except UnknownName:
        return None
    return vllm_mxfp4_expert_padding(gpu.compute_capability)


def _catalog_total(point: dict[str, Any]) -> int:
    try:
        return resolve_gpu(str(point["gpu"])).memory_bytes
    except UnknownName:
        return 0


def _missing_settings(point: dict[str, Any], settings: LogSettings, deployment: Deployment) -> str:
    """What the prediction needs and the log does not give."""
    reported = point.get("reported", {})
    kind = settings.profile.kind
    if kind == "sglang" and "load_weight_end_avail_mem_GB" in reported:
        return ""
    if kind == "trtllm":
        return "" if "available_for_kv_GiB" in reported else "free memory after loading"
    missing = []
    if not deployment.gpu_memory_bytes:
        missing.append("GPU runtime total")
    if settings.utilization is None:
        missing.append("gpu_memory_utilization")
    return ", ".join(missing)


def _kv_budget(
    point: dict[str, Any],
    profile: EngineProfile,
    arch: Architecture,
    weights: int,
    deployment: Deployment,
) -> tuple[int, str]:
    """KV bytes per GPU, and which measured figures went in."""
    reported = point.get("reported", {})
    fraction = number(point.get("gpu_memory_utilization"))
    stated = fraction if fraction is not None and 0 < fraction <= 1 else None
    if profile.kind == "sglang" and "load_weight_end_avail_mem_GB" in reported:
        free = float(reported["load_weight_end_avail_mem_GB"]) + float(
            reported["weights_mem_usage_GB"]
        )
        fraction = stated or default_mem_fraction_static(
            profile, round(free * GIB), deployment.tensor_parallel, 1
        )
        kv = sglang_pool_bytes(round(free * GIB), weights, fraction)
        return kv, "free memory before loading (load_weight_end avail + weights)"
    if profile.kind == "sglang":
        deployment = msgspec.structs.replace(deployment, mem_fraction_static=stated)
    if profile.kind == "trtllm":
        free = round(float(reported["available_for_kv_GiB"]) * GIB)
        fraction = profile.kv_cache_free_gpu_mem_fraction
        return trtllm_pool_bytes(free, fraction), "free memory after loading"
    budget = memory_budget(arch, weights, deployment, profile, deployment.max_model_len or 1)
    source = "GPU total from the log" if gpu_total(point) else "GPU total from the catalog"
    return budget.kv_cache, source
