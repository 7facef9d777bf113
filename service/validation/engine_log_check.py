"""Today's engines against their start-up logs: one ``engine_memory_logs.json`` datapoint
predicted and compared (:func:`check_engine_log`).

The log's settings (:mod:`service.validation.engine_logs`) and measured figures
(:mod:`service.validation.engine_log_measured`) in; the weights, the KV-cache memory and
tokens, vLLM's CUDA-graph estimate and maximum concurrency predicted by the engine model
and set beside the log's (:class:`~service.validation.engine_log_row.EngineLogCheck`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from service.domain.architecture import Architecture, InvalidConfig, UnsupportedArchitecture
from service.domain.capacity import Deployment, KvLayout, kv_layout, memory_budget
from service.domain.engine import EngineCatalog, EngineProfile, loaded_model_bytes
from service.domain.engines.sglang import default_mem_fraction_static
from service.domain.engines.sglang import pool_bytes as sglang_pool_bytes
from service.domain.engines.trtllm import pool_bytes as trtllm_pool_bytes
from service.domain.engines.vllm_v1 import cudagraph_estimate_bytes, logged_kv_tokens
from service.domain.hf_config import architecture_from_config
from service.domain.kernel_layout import ExpertPadding, vllm_mxfp4_expert_padding
from service.domain.kv_cache import resolve_kv_precision
from service.domain.units import GIB
from service.domain.weights import resolve_weight_precision, weight_memory
from service.validation.engine_log_measured import (
    measured_kv,
    measured_weights_gib,
    reported_number,
)
from service.validation.engine_log_row import EngineLogCheck
from service.validation.engine_logs import (
    CHECKPOINTS,
    LogSettings,
    gpu_total,
    log_settings,
    number,
    unmodelled_architecture,
)
from service.validation.models import UnknownName, resolve_gpu, resolve_model


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
        measured_cudagraph_gib=reported_number(reported, ("estimated_cuda_graph_GiB",)),
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
    check = _with_concurrency(check, reported, layout, blocks)
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
    check = _with_concurrency(check, point.get("reported", {}), layout, blocks)
    return replace(
        check,
        status=f"allocator only: {gap}",
        inputs_from_log="KV memory from the log",
        allocator_kv_tokens=_logged_tokens(layout, blocks, settings.profile, deployment),
    )


def _with_concurrency(
    check: EngineLogCheck, reported: dict[str, Any], layout: KvLayout, blocks: int
) -> EngineLogCheck:
    """The logged "maximum concurrency" beside the allocator's: ``blocks`` pages over the pages
    one request of the logged length holds."""
    concurrency = reported.get("max_concurrency")
    if not (isinstance(concurrency, dict) and "tokens_per_request" in concurrency):
        return check
    pages = layout.sequence_bytes(int(concurrency["tokens_per_request"]))
    return msgspec.structs.replace(
        check,
        measured_max_concurrency=float(concurrency["x"]),
        predicted_max_concurrency=blocks * layout.block_bytes / pages if pages else None,
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
