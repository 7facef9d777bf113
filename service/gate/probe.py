"""Re-run the capacity question for one deployment with one thing changed."""

from __future__ import annotations

from typing import Any

import msgspec

from service.contract.schemas import MaxBatchRequest, MaxBatchResponse
from service.domain.architecture import Architecture
from service.domain.gpu import GpuSpec
from service.domain.planner import Configuration
from service.gate.backend import Backend
from service.gate.target import Target


class Probe:
    """A target bound to its backend, model architecture, GPU and context length."""

    def __init__(
        self, target: Target, backend: Backend, arch: Architecture, gpu: GpuSpec, context: int
    ) -> None:
        self.target = target
        self.backend = backend
        self.arch = arch
        self.gpu = gpu
        self.context = context
        self._vendors: dict[str, str] = {gpu.id: gpu.vendor}

    def fit(self, **changes: Any) -> MaxBatchResponse:
        """``/v1/max-batch`` for the target with ``changes`` (request field names) applied.

        ``max_num_seqs`` is the target's (the engine runs with it), else the engine's default
        for the GPU: ``max_batch`` is what memory allows, capped by that many sequences.
        """
        t = self.target
        fields: dict[str, Any] = {
            "model": t.model,
            "gpu": t.gpu,
            "context_length": self.context,
            "tensor_parallel": t.tensor_parallel,
            "pipeline_parallel": t.pipeline_parallel,
            "expert_parallel": t.expert_parallel,
            "attention_data_parallel": t.attention_data_parallel,
            "weight_dtype": t.weight_dtype,
            "kv_cache_dtype": t.kv_cache_dtype,
            "gpu_memory_utilization": t.gpu_memory_utilization,
            "max_num_seqs": t.max_num_seqs,
            **engine_fields(t, MaxBatchRequest)[0],
        }
        fields.update(changes)
        return self.backend.max_batch(MaxBatchRequest(**fields))

    def setting(self, field: str, value: object) -> str:
        """The change as the user writes it: ``--kv-cache-dtype fp8`` or ``kv_cache_dtype: fp8``."""
        name = self.target.spelling.get(field, field)
        return f"{name} {value}" if name.startswith("-") else f"{name}: {value}"

    def permitted(self, gpu_id: str) -> bool:
        """May a fix move to ``gpu_id``? Only to ``allow_gpus`` when given (any vendor), never
        to ``deny_gpus``, and otherwise only to a GPU of the current GPU's vendor."""
        t = self.target
        if gpu_id in t.deny_gpus:
            return False
        if t.allow_gpus:
            return gpu_id in t.allow_gpus
        if gpu_id not in self._vendors:
            self._vendors[gpu_id] = self.backend.gpu(gpu_id).vendor
        return self._vendors[gpu_id] == self.gpu.vendor

    @property
    def hourly_cost(self) -> float | None:
        price = self.gpu.price_per_hour_usd
        return None if price is None else price * self.target.gpu_count


def engine_fields(
    target: Target, request: type[msgspec.Struct]
) -> tuple[dict[str, Any], list[str]]:
    """The target's engine and engine knobs that ``request`` carries, and warnings naming
    those it does not (this capplan's contract has no field for them, so they are not used).
    """
    accepted = set(request.__struct_fields__)
    wanted = dict(target.engine_options)
    if target.engine is not None:
        wanted["engine"] = target.engine
    fields = {name: value for name, value in wanted.items() if name in accepted}
    flags = target.spelling
    unused = [
        f"{flags.get(name, name)} {value}: read, but this capplan's memory model does not use it"
        for name, value in wanted.items()
        if name not in accepted
    ]
    return fields, unused


def layout_of(option: Configuration) -> dict[str, Any]:
    """A planned configuration's GPU and layout, as ``Probe.fit`` changes."""
    return {
        "gpu": option.gpu,
        "tensor_parallel": option.tensor_parallel,
        "pipeline_parallel": option.pipeline_parallel,
    }
