"""What ``capplan check`` was given, as targets: a manifest, Kubernetes objects, or a command.

* a capplan manifest (one YAML/JSON mapping of deployment fields, ``docs/examples``);
* Kubernetes objects (one file or ``-`` for stdin, e.g. ``helm template ... | capplan check -``):
  one target per serving workload (:mod:`service.gate.kubernetes`);
* a serving command after ``--`` (:mod:`service.gate.command_line`).

``--gpu``, ``--gpu-count`` and ``--engine`` override what the input says.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import yaml

from service.gate.command_line import ServeCommand, parse_command
from service.gate.input_files import DuplicateKey, load_documents, read_stdin, read_text
from service.gate.kubernetes import Workload, is_kubernetes, workloads
from service.gate.manifest import target_from_fields
from service.gate.target import InputError, Target
from service.gate.vllm_args import SOURCE, manifest_fields, parallel_command_fields, spelling

STDIN = "-"
_IMAGE_VERSION = ("vllm-openai:v", "sglang:v", "tensorrt-llm/release:")


class Overrides(msgspec.Struct, frozen=True, kw_only=True):
    """The command line's ``--gpu``, ``--gpu-count`` and ``--engine``."""

    gpu: str | None = None
    gpu_count: int | None = None
    engine: str | None = None


class Input(msgspec.Struct, frozen=True, kw_only=True):
    """One target to check, the words it skipped, and the file to annotate."""

    target: Target
    ignored: list[str]
    file: str | None


def is_file_input(inputs: Sequence[str]) -> bool:
    if len(inputs) != 1 or inputs[0] in ("vllm", "serve"):
        return False
    name = inputs[0]
    return name == STDIN or name.endswith((".yaml", ".yml", ".json")) or Path(name).is_file()


def _is_plain_directory(inputs: Sequence[str]) -> bool:
    """One word naming a directory that is not a model's (a ``config.json`` inside makes it
    a bare ``vllm serve`` argument: the model, read from there)."""
    if len(inputs) != 1:
        return False
    path = Path(inputs[0])
    return path.is_dir() and not (path / "config.json").is_file()


def read_inputs(inputs: Sequence[str], overrides: Overrides) -> list[Input]:
    """Every target the inputs describe (module doc); bad input is an :class:`InputError`."""
    if not inputs:
        raise InputError("capplan check", "(arguments)", "give a manifest, - or -- COMMAND ...")
    if _is_plain_directory(inputs):
        message = "is a directory: expected a manifest file (YAML/JSON), - for stdin, or -- COMMAND"
        raise InputError(inputs[0], "(file)", message)
    if not is_file_input(inputs):
        command = parse_command(inputs, source=SOURCE, base_dir=Path.cwd())
        target = command_target(command, overrides, SOURCE, Path.cwd())
        return [Input(target=target, ignored=list(command.ignored), file=None)]
    name = inputs[0]
    source = "stdin" if name == STDIN else name
    documents = _documents(name, source)
    base_dir = Path.cwd() if name == STDIN else Path(name).parent
    file = None if name == STDIN else name
    if any(is_kubernetes(document) for document in documents):
        found = workloads(documents, source)
        return [_workload_input(w, overrides, source, base_dir, file) for w in found]
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise InputError(source, "(file)", "expected one mapping of deployment fields")
    given = {"gpu": overrides.gpu, "gpu_count": overrides.gpu_count, "engine": overrides.engine}
    fields = {**documents[0], **{key: value for key, value in given.items() if value is not None}}
    target = target_from_fields(fields, source=source, base_dir=base_dir)
    return [Input(target=target, ignored=[], file=file)]


def _documents(name: str, source: str) -> list[Any]:
    try:
        text = read_stdin() if name == STDIN else read_text(Path(name))
    except OSError as exc:
        raise InputError(source, "(file)", f"cannot read: {exc.strerror}") from exc
    except ValueError as exc:
        raise InputError(source, "(file)", str(exc)) from exc
    try:
        documents = [doc for doc in load_documents(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise InputError(source, "(file)", f"invalid YAML/JSON: {exc}") from exc
    except DuplicateKey as exc:
        raise InputError(source, exc.field, exc.message) from exc
    if not documents:
        raise InputError(source, "(file)", "empty: expected a manifest or Kubernetes objects")
    return documents


def command_target(
    command: ServeCommand,
    overrides: Overrides,
    source: str,
    base_dir: Path,
    warnings: Sequence[str] = (),
) -> Target:
    """A parsed serving command as a target (the engine it runs unless ``--engine``)."""
    fields = manifest_fields(command, overrides.gpu, overrides.gpu_count, source)
    fields["engine"] = overrides.engine or command.engine
    fields["engine_options"] = dict(command.options)
    folding = parallel_command_fields(command, source)[1]
    return target_from_fields(
        fields,
        source=source,
        base_dir=base_dir,
        spelling=spelling(command),
        warnings=[*warnings, *command.warnings, *folding],
    )


def _workload_input(
    workload: Workload, overrides: Overrides, source: str, base_dir: Path, file: str | None
) -> Input:
    where = f"{source} {workload.label}"
    command = parse_command(workload.argv, source=f"{where} command", base_dir=base_dir)
    gpu = overrides.gpu or workload.gpu
    if gpu is None:
        message = "no GPU type: expected a nodeSelector or required node affinity on "
        raise InputError(where, "nodeSelector", message + "nvidia.com/gpu.product, or --gpu ID")
    per_replica = _gpus_per_replica(command, f"{where} command")
    warnings = list(workload.warnings)
    if per_replica > workload.gpus_per_replica:
        message = f"the command uses {per_replica} GPUs per replica (TP x PP x DP), the pod "
        raise InputError(where, "resources.limits", f"{message}gets {workload.gpus_per_replica}")
    if per_replica < workload.gpus_per_replica:
        warnings.append(
            f"{workload.label}: {workload.gpus_per_replica} GPUs per replica requested, the "
            f"command uses {per_replica}; the rest sit idle"
        )
    replicas = workload.replicas
    if replicas < 1:
        warnings.append(f"{workload.label}: replicas is {replicas}; checked as one replica")
        replicas = 1
    warnings += _image_note(workload.image)
    gpu_count = overrides.gpu_count or per_replica * replicas
    local = Overrides(gpu=gpu, gpu_count=gpu_count, engine=overrides.engine)
    target = command_target(command, local, where, base_dir, warnings)
    return Input(target=target, ignored=list(command.ignored), file=file)


def _gpus_per_replica(command: ServeCommand, source: str) -> int:
    fields = parallel_command_fields(command, source)[0]
    degree = 1
    for name in ("tensor_parallel", "pipeline_parallel", "data_parallel"):
        value = fields.get(name, 1)
        degree *= value if isinstance(value, int) and value >= 1 else 1
    return degree


def _image_note(image: str) -> list[str]:
    """The engine version an image tag names, said out loud (the check uses --engine's)."""
    for marker in _IMAGE_VERSION:
        if marker in image:
            version = image.split(marker, 1)[1].split("@")[0]
            return [f"image {image}: engine version {version}; pin it with --engine if the "
                    "catalog has that version, else capplan's newest profile is used"]  # fmt: skip
    return []
