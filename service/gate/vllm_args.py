"""A serving command's deployment fields, as the gate's manifest validation reads them.

Parsing is :mod:`service.gate.command_line`; this module turns the parsed command into the
field dictionary a manifest would hold. ``--data-parallel-size`` (SGLang ``--dp-size``) adds
replicas, each holding the whole model on ``tensor_parallel x pipeline_parallel`` GPUs:
``gpu_count = tp · pp · dp``, and ``tensor_parallel`` is 1 unless a flag sets it; with
expert parallelism or SGLang's DP attention the DP ranks are one replica instead
(:mod:`service.gate.expert_parallel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.gate.command_line import SOURCE, ServeCommand, parse_command
from service.gate.engine_flags import ENGINES, human_int
from service.gate.expert_parallel import parallel_fields

__all__ = ["SOURCE", "human_int", "manifest_fields", "parse_vllm_serve", "spelling"]

_GATE_FLAGS = {"gpu": "--gpu", "gpu_count": "--gpu-count", "engine": "--engine"}


def parse_vllm_serve(argv: Sequence[str], base_dir: Path | None = None) -> ServeCommand:
    """Any serving command (the name is historical; see :func:`parse_command`)."""
    return parse_command(argv, base_dir=base_dir or Path.cwd())


def spelling(command: ServeCommand) -> dict[str, str]:
    """Field -> the flag that sets it in this command's engine, for errors and fixes
    (``expert_parallel`` is the EP size's flag when the command gives one)."""
    names = {**ENGINES[command.engine].spelling, **_GATE_FLAGS}
    if "ep_size" in command.fields:
        names["expert_parallel"] = names["ep_size"]
    if command.engine == "vllm":
        names.setdefault("attention_data_parallel", names["data_parallel"])
    return names


def parallel_command_fields(command: ServeCommand, source: str) -> tuple[dict[str, Any], list[str]]:
    """The command's fields with EP and DP in capplan's terms (:mod:`.expert_parallel`):
    ``data_parallel`` is then the number of replicas."""
    return parallel_fields(command.engine, command.fields, spelling(command), source)


def manifest_fields(
    command: ServeCommand, gpu: str | None, gpu_count: int | None, source: str = SOURCE
) -> dict[str, Any]:
    """The command's fields plus the gate's GPU flags; data-parallel replicas add GPUs."""
    fields, _ = parallel_command_fields(command, source)
    data_parallel = fields.pop("data_parallel")
    fields.setdefault("tensor_parallel", 1)
    if gpu is not None:
        fields["gpu"] = gpu
    if gpu_count is not None:
        fields["gpu_count"] = gpu_count
    else:
        per_replica = fields["tensor_parallel"] * fields.get("pipeline_parallel", 1)
        fields["gpu_count"] = per_replica * data_parallel
    return fields
