"""A serving command's deployment fields, as the gate's manifest validation reads them.

Parsing is :mod:`service.gate.command_line`; this module turns the parsed command into the
field dictionary a manifest would hold. ``--data-parallel-size`` (SGLang ``--dp-size``) adds
replicas, each holding the whole model on ``tensor_parallel x pipeline_parallel`` GPUs:
``gpu_count = tp · pp · dp``, and ``tensor_parallel`` is 1 unless a flag sets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.gate.command_line import SOURCE, ServeCommand, parse_command
from service.gate.engine_flags import ENGINES, human_int
from service.gate.target import InputError

__all__ = ["SOURCE", "human_int", "manifest_fields", "parse_vllm_serve", "spelling"]

_GATE_FLAGS = {"gpu": "--gpu", "gpu_count": "--gpu-count", "engine": "--engine"}


def parse_vllm_serve(argv: Sequence[str], base_dir: Path | None = None) -> ServeCommand:
    """Any serving command (the name is historical; see :func:`parse_command`)."""
    return parse_command(argv, base_dir=base_dir or Path.cwd())


def spelling(command: ServeCommand) -> dict[str, str]:
    """Field -> the flag that sets it in this command's engine, for errors and fixes."""
    return {**ENGINES[command.engine].spelling, **_GATE_FLAGS}


def manifest_fields(
    command: ServeCommand, gpu: str | None, gpu_count: int | None
) -> dict[str, Any]:
    """The command's fields plus the gate's GPU flags; data-parallel replicas add GPUs."""
    fields = dict(command.fields)
    data_parallel = fields.pop("data_parallel", 1)
    if not isinstance(data_parallel, int) or data_parallel < 1:
        flag = spelling(command)["data_parallel"]
        raise InputError(SOURCE, flag, f"must be >= 1, got {data_parallel}")
    fields.setdefault("tensor_parallel", 1)
    if gpu is not None:
        fields["gpu"] = gpu
    if gpu_count is not None:
        fields["gpu_count"] = gpu_count
    else:
        per_replica = fields["tensor_parallel"] * fields.get("pipeline_parallel", 1)
        fields["gpu_count"] = per_replica * data_parallel
    return fields
