"""Deployment manifests (YAML or JSON) and their validation into a :class:`Target`.

The ``vllm serve`` parser builds the same field dictionary, so both inputs share one set
of bounds; they match the API's request bounds, so offline and ``--url`` accept the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, cast

import msgspec
import yaml

from service.contract.schemas import KvDtype, SloIn, WeightDtype, WorkloadIn
from service.gate.dtypes import parse_kv_cache_dtype, parse_quantization, weight_dtype
from service.gate.input_files import DuplicateKey, load_document, read_text
from service.gate.target import InputError, Target, model_reference

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Degree = Annotated[int, msgspec.Meta(ge=1, le=64)]
Milliseconds = Annotated[float, msgspec.Meta(gt=0, le=3_600_000)]
Tokens = Annotated[int, msgspec.Meta(ge=1, le=10_000_000)]
Batch = Annotated[int, msgspec.Meta(ge=1, le=65_536)]
Fail = Callable[[str, str], InputError]


class SloFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``burst``: judge ``ttft_ms`` against the burst TTFT (all concurrent prompts at once)
    instead of the steady-state TTFT, as the API's ``slo.burst``."""

    ttft_ms: Milliseconds | None = None
    tpot_ms: Milliseconds | None = None
    burst: bool = False


class WorkloadFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    input_tokens: Tokens
    output_tokens: Tokens
    concurrency: Batch = 1


class ManifestFields(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A manifest as written; unknown keys are errors so a typo is never silently ignored."""

    model: Text
    gpu: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    gpu_count: Annotated[int, msgspec.Meta(ge=1, le=4096)] | None = None
    tensor_parallel: Degree | None = None
    pipeline_parallel: Degree = 1
    expert_parallel: bool = False
    attention_data_parallel: bool = False
    max_model_len: Tokens | None = None
    max_num_seqs: Batch | None = None
    gpu_memory_utilization: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.9
    dtype: str = "auto"
    kv_cache_dtype: str = "auto"
    quantization: str | None = None
    workload: WorkloadFields | None = None
    slo: SloFields | None = None
    require_full_concurrency: bool = False
    engine: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    engine_options: dict[str, Any] = msgspec.field(default_factory=dict)


def _slo(raw: SloFields | None) -> SloIn | None:
    if raw is None:
        return None
    return SloIn(ttft_ms=raw.ttft_ms, tpot_ms=raw.tpot_ms, burst=raw.burst)


_AT_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$\.?(?P<path>[^`]*)`)?$", re.DOTALL)
_NAMED = re.compile(r"(?:missing required|contains unknown) field `(?P<name>[^`]+)`")


def _field_of(error: msgspec.ValidationError, fields: Mapping[str, Any]) -> tuple[str, str]:
    """(field path, reason) from msgspec's ``reason - at `$.path``` message, plus the value."""
    match = _AT_PATH.match(str(error))
    reason, path = (match["reason"], match["path"] or "") if match else (str(error), "")
    if named := _NAMED.search(reason):
        path = f"{path}.{named['name']}" if path else named["name"]
        return path, "required field is missing" if "missing" in reason else "unknown field"
    value: Any = fields
    for key in path.split(".") if path else ():
        value = value.get(key) if isinstance(value, Mapping) else None
    if path and value is not None:
        # msgspec names the type it got (``Expected `int`, got `str```); add the value.
        reason = f"{reason} {value!r}" if ", got `" in reason else f"{reason}, got {value!r}"
    return path or "(manifest)", reason


def target_from_fields(
    fields: Mapping[str, Any],
    *,
    source: str,
    base_dir: Path,
    spelling: Mapping[str, str] | None = None,
    warnings: Sequence[str] = (),
) -> Target:
    """Validate raw fields (a manifest, or parsed flags) into a :class:`Target`."""
    names = dict(spelling or {})

    def fail(field: str, message: str) -> InputError:
        return InputError(source, names.get(field, field), message)

    try:
        raw = msgspec.convert(dict(fields), ManifestFields)
    except msgspec.ValidationError as exc:
        raise fail(*_field_of(exc, fields)) from exc
    try:
        model, label = model_reference(raw.model, base_dir)
    except ValueError as exc:
        raise fail("model", str(exc)) from exc
    tp = raw.tensor_parallel or (raw.gpu_count or 1) // raw.pipeline_parallel or 1
    per_replica = tp * raw.pipeline_parallel
    count = raw.gpu_count or per_replica
    if count % per_replica:
        message = f"{count} GPUs cannot be split into replicas of tensor_parallel {tp} x "
        raise fail("gpu_count", f"{message}pipeline_parallel {raw.pipeline_parallel}")
    if raw.slo is not None and raw.workload is None:
        raise fail("slo", "an SLO needs a workload (input_tokens, output_tokens, concurrency)")
    return Target(
        source=source,
        model=model,
        model_label=label,
        gpu=raw.gpu,
        tensor_parallel=tp,
        pipeline_parallel=raw.pipeline_parallel,
        replicas=count // per_replica,
        expert_parallel=raw.expert_parallel,
        attention_data_parallel=raw.attention_data_parallel,
        max_model_len=raw.max_model_len,
        max_num_seqs=raw.max_num_seqs,
        gpu_memory_utilization=raw.gpu_memory_utilization,
        weight_dtype=_weights(raw, fail),
        kv_cache_dtype=_kv(raw, fail),
        workload=_workload(raw.workload),
        slo=_slo(raw.slo),
        require_full_concurrency=raw.require_full_concurrency,
        spelling=names,
        engine=raw.engine,
        engine_options=dict(raw.engine_options),
        warnings=tuple(warnings),
    )


def _workload(raw: WorkloadFields | None) -> WorkloadIn | None:
    if raw is None:
        return None
    return WorkloadIn(
        input_tokens=raw.input_tokens,
        output_tokens=raw.output_tokens,
        concurrency=raw.concurrency,
    )


def _weights(raw: ManifestFields, fail: Fail) -> WeightDtype:
    if raw.quantization is not None:
        try:
            parse_quantization(raw.quantization)
        except ValueError as exc:
            raise fail("quantization", str(exc)) from exc
    try:
        return cast("WeightDtype", weight_dtype(raw.dtype, raw.quantization))
    except ValueError as exc:
        raise fail("dtype", str(exc)) from exc


def _kv(raw: ManifestFields, fail: Fail) -> KvDtype:
    try:
        return cast("KvDtype", parse_kv_cache_dtype(raw.kv_cache_dtype))
    except ValueError as exc:
        raise fail("kv_cache_dtype", str(exc)) from exc


def load_manifest(path: Path, overrides: Mapping[str, Any] | None = None) -> Target:
    """Read a YAML/JSON manifest; ``overrides`` (command-line flags) replace its fields."""
    source = str(path)
    try:
        document = load_document(read_text(path))
    except OSError as exc:
        raise InputError(source, "(file)", f"cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InputError(source, "(file)", f"invalid YAML/JSON: {exc}") from exc
    except DuplicateKey as exc:
        raise InputError(source, exc.field, exc.message) from exc
    except ValueError as exc:
        raise InputError(source, "(file)", str(exc)) from exc
    if not isinstance(document, dict):
        raise InputError(source, "(file)", "expected a mapping of deployment fields")
    fields = {**document, **(overrides or {})}
    return target_from_fields(fields, source=source, base_dir=path.parent)
