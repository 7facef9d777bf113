"""The deployment the gate checks, however it was described, and the error for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from service.contract.schemas import InlineModel, KvDtype, ModelRef, SloIn, WeightDtype, WorkloadIn
from service.gate.input_files import read_text


class InputError(ValueError):
    """Input the gate cannot check (exit 2); names its source and the offending field.

    ``field`` is spelled as the user wrote it: a manifest key (``max_model_len``) or a
    ``vllm serve`` flag (``--max-model-len``).
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        super().__init__(message)
        self.source = source
        self.field = field
        self.message = message

    def __str__(self) -> str:
        where = self.field if self.field.startswith("-") else f"field '{self.field}'"
        return f"{self.source}: {where}: {self.message}"


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """A validated deployment: what ``vllm serve`` would be asked to run, on which GPUs.

    ``replicas`` are data-parallel copies (``gpu_count / (tp · pp)``); each holds the model.
    ``expert_parallel`` / ``attention_data_parallel`` are the API's fields of those names
    (EP over the ``tensor_parallel`` GPUs; :mod:`service.gate.expert_parallel`).
    ``spelling`` maps a field to the name the user wrote, for error messages. ``engine`` is
    the engine string for the API's ``engine`` field (``None``: the catalog's default);
    ``engine_options`` are the engine's own knobs (``max_num_batched_tokens`` …) for its
    memory model; ``warnings`` name what was read but is not modelled. ``allow_gpus`` /
    ``deny_gpus`` bound the GPUs a suggested fix may move to (default: the same vendor).
    """

    source: str
    model: ModelRef
    model_label: str
    gpu: str
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    replicas: int = 1
    expert_parallel: bool = False
    attention_data_parallel: bool = False
    max_model_len: int | None = None
    max_num_seqs: int | None = None
    gpu_memory_utilization: float = 0.9
    weight_dtype: WeightDtype = "auto"
    kv_cache_dtype: KvDtype = "auto"
    workload: WorkloadIn | None = None
    slo: SloIn | None = None
    require_full_concurrency: bool = False
    spelling: dict[str, str] = msgspec.field(default_factory=dict)
    engine: str | None = None
    engine_options: dict[str, Any] = msgspec.field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    allow_gpus: tuple[str, ...] = ()
    deny_gpus: tuple[str, ...] = ()

    @property
    def gpus_per_replica(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel

    @property
    def gpu_count(self) -> int:
        return self.gpus_per_replica * self.replicas

    def error(self, field: str, message: str) -> InputError:
        """An :class:`InputError` for ``field``, spelled as in the input."""
        return InputError(self.source, self.spelling.get(field, field), message)


def model_reference(value: str, base_dir: Path) -> tuple[ModelRef, str]:
    """A catalog repo id, or a ``config.json`` (file, or a directory holding one) inlined.

    Raises ``ValueError`` when a path-like value cannot be read as a JSON object.
    """
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not (value.endswith(".json") or path.exists()):
        return value, value
    if path.is_dir():
        path = path / "config.json"
    try:
        config = json.loads(read_text(path))
    except OSError as exc:
        raise ValueError(f"cannot read model config {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"model config {path} is not valid JSON: {exc}") from exc
    except ValueError as exc:
        raise ValueError(f"model config {path}: {exc}") from exc
    if not isinstance(config, dict):
        raise ValueError(f"model config {path} must hold a JSON object")
    return InlineModel(hf_config=config), value
