"""Read the argument list of a ``vllm serve`` command as manifest fields.

Only the flags that change memory or speed are read; every other flag is skipped and
listed in ``ignored``. A bad value of a flag that is read is an :class:`InputError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from service.gate.target import InputError

SOURCE = "vllm serve arguments"

#: flag -> manifest field and how to read its value
FLAGS: dict[str, tuple[str, Callable[[str], Any]]] = {}

#: manifest field -> the long flag that sets it (for error messages)
SPELLING: dict[str, str] = {"gpu": "--gpu", "gpu_count": "--gpu-count", "model": "--model"}

#: flags that never take a value, beyond the ``--enable-*``/``--disable-*``/``--no-*`` families
BOOLEAN_FLAGS = frozenset(
    {"--trust-remote-code", "--enforce-eager", "--skip-tokenizer-init", "--headless"}
)
_BOOLEAN_PREFIXES = ("--enable-", "--disable-", "--no-")
_SUFFIX = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>[kmgt])", re.IGNORECASE)


def human_int(text: str) -> int:
    """vLLM's token counts: ``8192``, ``32k`` (= 32,000) or ``32K`` (= 32,768); 1.5k allowed."""
    match = _SUFFIX.fullmatch(text.strip())
    if match is None:
        return int(text)
    number, unit = str(match["number"]), str(match["unit"])
    power = "kmgt".index(unit.lower()) + 1
    if unit.isupper():
        return int(int(number) * 1024**power)
    return int(float(number) * 1000**power)


def _register(field: str, read: Callable[[str], Any], *names: str) -> None:
    SPELLING[field] = names[0]
    for name in names:
        FLAGS[name] = (field, read)


_register("model", str, "--model")
_register("tensor_parallel", int, "--tensor-parallel-size", "-tp")
_register("pipeline_parallel", int, "--pipeline-parallel-size", "-pp")
_register("data_parallel", int, "--data-parallel-size", "-dp")
_register("max_model_len", human_int, "--max-model-len")
_register("max_num_seqs", int, "--max-num-seqs")
_register("gpu_memory_utilization", float, "--gpu-memory-utilization")
_register("dtype", str, "--dtype")
_register("kv_cache_dtype", str, "--kv-cache-dtype")
_register("quantization", str, "--quantization", "-q")


class VllmCommand(msgspec.Struct, frozen=True, kw_only=True):
    """The manifest fields a ``vllm serve`` command sets, and the arguments it skipped."""

    fields: dict[str, Any]
    ignored: tuple[str, ...]


def _strip_program(argv: Sequence[str]) -> list[str]:
    """Drop a leading ``vllm serve`` (or ``python -m vllm.entrypoints...``)."""
    args = list(argv)
    if args[:2] == ["python", "-m"] or args[:2] == ["python3", "-m"]:
        args = args[3:]
    if args[:1] == ["vllm"]:
        args = args[1:]
    if args[:1] == ["serve"]:
        args = args[1:]
    return args


def _takes_value(flag: str, following: str | None) -> bool:
    if flag in BOOLEAN_FLAGS or flag.startswith(_BOOLEAN_PREFIXES):
        return False
    return following is not None and not following.startswith("-")


def parse_vllm_serve(argv: Sequence[str]) -> VllmCommand:
    """Manifest fields from ``vllm serve MODEL --flag value ...``; unknown flags skipped."""
    args = _strip_program(argv)
    fields: dict[str, Any] = {}
    ignored: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if not token.startswith("-"):
            if "model" in fields:
                ignored.append(token)
            else:
                fields["model"] = token
            continue
        flag, equals, value = token.partition("=")
        if flag not in FLAGS:
            following = args[index] if index < len(args) else None
            if not equals and _takes_value(flag, following):
                ignored.append(f"{token} {following}")
                index += 1
            else:
                ignored.append(token)
            continue
        if not equals:
            if index >= len(args):
                raise InputError(SOURCE, flag, "expects a value")
            value = args[index]
            index += 1
        field, read = FLAGS[flag]
        try:
            fields[field] = read(value)
        except ValueError:
            raise InputError(SOURCE, flag, f"invalid value '{value}'") from None
    return VllmCommand(fields=fields, ignored=tuple(ignored))


def manifest_fields(command: VllmCommand, gpu: str | None, gpu_count: int | None) -> dict[str, Any]:
    """The command's fields plus the GPU flags; ``-dp`` replicas count towards the GPUs."""
    fields = dict(command.fields)
    data_parallel = fields.pop("data_parallel", None)
    if gpu is not None:
        fields["gpu"] = gpu
    if gpu_count is not None:
        fields["gpu_count"] = gpu_count
    elif data_parallel is not None:
        if not isinstance(data_parallel, int) or data_parallel < 1:
            raise InputError(SOURCE, "--data-parallel-size", f"must be >= 1, got {data_parallel}")
        per_replica = fields.get("tensor_parallel", 1) * fields.get("pipeline_parallel", 1)
        fields["gpu_count"] = per_replica * data_parallel
    return fields
