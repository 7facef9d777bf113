"""Read and validate the whole seed catalog before anything is written.

Every problem is collected (not just the first) and names the file, the entry (its id, or
its index when it has none) and the field, so a broken seed can be fixed in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import yaml

from service.db.seed_schema import GpuSeed, ModelSeed, model_file_stem
from service.domain.architecture import Architecture, InvalidConfig
from service.domain.gpu import achievable_rate_problem
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import ParameterCount, count_parameters


@dataclass(frozen=True, slots=True)
class SeedProblem:
    """One thing wrong with one field of one entry."""

    file: Path
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: entry {self.entry}: field '{self.field}': {self.message}"


class SeedError(ValueError):
    """The seed catalog is invalid; ``problems`` lists every finding."""

    def __init__(self, problems: list[SeedProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A valid model seed with its normalised architecture and parameter counts."""

    seed: ModelSeed
    architecture: Architecture
    parameters: ParameterCount


@dataclass(frozen=True, slots=True)
class SeedCatalog:
    gpus: list[GpuSeed]
    models: list[ModelEntry]


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``3.35e12`` as a string; accept exponents without a dot or sign."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_catalog(catalog_dir: Path) -> SeedCatalog:
    """``gpus.yaml`` and ``models/*.yaml`` under ``catalog_dir``, or :class:`SeedError`."""
    problems: list[SeedProblem] = []
    gpus = _load_gpus(catalog_dir / "gpus.yaml", problems)
    models_dir = catalog_dir / "models"
    files = sorted([*models_dir.glob("*.yaml"), *models_dir.glob("*.yml")])
    models = [entry for path in files if (entry := _load_model(path, problems))]
    seen = [(entry.seed.repo_id, path, f"'{entry.seed.repo_id}'") for entry, path in models]
    _reject_duplicates(seen, "repo_id", problems)
    _reject_alias_clashes(models, problems)
    if problems:
        raise SeedError(problems)
    return SeedCatalog(gpus=gpus, models=[entry for entry, _ in models])


def _load_gpus(path: Path, problems: list[SeedProblem]) -> list[GpuSeed]:
    document = _read_yaml(path, problems)
    if document is None:
        return []
    entries = document.get("gpus") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        problems.append(SeedProblem(path, "(file)", "gpus", "expected a list of GPU entries"))
        return []
    gpus: list[GpuSeed] = []
    seen: list[tuple[str, Path, str]] = []
    for index, raw in enumerate(entries):
        label = _entry_label(raw, "id", index)
        try:
            gpu = msgspec.convert(raw, GpuSeed)
        except msgspec.ValidationError as exc:
            problems.append(_problem(path, label, exc))
            continue
        if why := achievable_rate_problem(gpu.dense_tflops_bf16, gpu.achievable_tflops_bf16):
            problems.append(SeedProblem(path, label, "achievable_tflops_bf16", why))
            continue
        gpus.append(gpu)
        seen.append((gpu.id, path, label))
    _reject_duplicates(seen, "id", problems)
    return gpus


def _load_model(path: Path, problems: list[SeedProblem]) -> tuple[ModelEntry, Path] | None:
    raw = _read_yaml(path, problems)
    if raw is None:
        return None
    label = _entry_label(raw, "repo_id", None)
    try:
        seed = msgspec.convert(raw, ModelSeed)
    except msgspec.ValidationError as exc:
        problems.append(_problem(path, label, exc))
        return None
    if path.stem != model_file_stem(seed.repo_id):
        expected = f"{model_file_stem(seed.repo_id)}{path.suffix}"
        problems.append(SeedProblem(path, label, "repo_id", f"the file must be named {expected}"))
        return None
    try:
        architecture = architecture_from_config(seed.config)
    except ValueError as exc:
        field = f"config.{exc.field}" if isinstance(exc, InvalidConfig) else "config"
        problems.append(SeedProblem(path, label, field, str(exc)))
        return None
    return ModelEntry(seed, architecture, count_parameters(architecture)), path


def _reject_alias_clashes(
    models: list[tuple[ModelEntry, Path]], problems: list[SeedProblem]
) -> None:
    """An alias must name one model: not another model's id, nor another model's alias
    (compared as names are matched: case, punctuation and the org prefix ignored)."""
    owner = {_name_key(entry.seed.repo_id): entry.seed.repo_id for entry, _ in models}
    for entry, path in models:
        repo_id = entry.seed.repo_id
        for alias in entry.seed.aliases:
            other = owner.setdefault(_name_key(alias), repo_id)
            if other != repo_id:
                message = f"alias '{alias}' already names '{other}'"
                problems.append(SeedProblem(path, f"'{repo_id}'", "aliases", message))


def _name_key(name: str) -> str:
    """``meta-llama/Llama-3.1-8B`` -> ``llama318b`` (as ``service.planning.names.model_key``,
    which this layer may not import)."""
    return _NOT_ALNUM.sub("", name.rsplit("/", 1)[-1].lower())


def _read_yaml(path: Path, problems: list[SeedProblem]) -> Any:
    """The parsed document, or None (with a problem recorded) if it is missing or unreadable."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader
    except OSError as exc:
        problems.append(SeedProblem(path, "(file)", "(file)", f"cannot read: {exc.strerror}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(SeedProblem(path, "(file)", "(file)", f"invalid YAML: {exc}"))
        return None
    if not isinstance(document, dict):
        problems.append(SeedProblem(path, "(file)", "(file)", "expected a mapping at the top"))
        return None
    return document


def _entry_label(raw: Any, key: str, index: int | None) -> str:
    """``#3 'h100-sxm'``: the entry's position (in a list) and its id when it has one."""
    ident = raw.get(key) if isinstance(raw, dict) else None
    parts = [] if index is None else [f"#{index}"]
    if isinstance(ident, str) and ident:
        parts.append(f"'{ident}'")
    return " ".join(parts) or "(file)"


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_NAMED_FIELD = re.compile(r"(?:missing required|contains unknown) field `(?P<name>[^`]+)`")


def _problem(path: Path, entry: str, exc: msgspec.ValidationError) -> SeedProblem:
    """Split msgspec's ``reason - at `$.field``` message into field and reason."""
    reason, at, where = str(exc).rpartition(" - at `$")
    if not at:
        reason, where = str(exc), ""
    field = where.rstrip("`").lstrip(".")
    if named := _NAMED_FIELD.search(reason):
        field = f"{field}.{named['name']}" if field else named["name"]
    return SeedProblem(path, entry, field or "(entry)", reason)


def _reject_duplicates(
    ids: list[tuple[str, Path, str]], field: str, problems: list[SeedProblem]
) -> None:
    """Flag every repeat of an id after its first (id, file, entry label) occurrence."""
    first_seen: dict[str, tuple[Path, str]] = {}
    for ident, path, label in ids:
        if ident not in first_seen:
            first_seen[ident] = (path, label)
            continue
        first_path, first_label = first_seen[ident]
        where = f"entry {first_label}" if first_path == path else f"{first_path}"
        message = f"duplicate {field} '{ident}' (first defined at {where})"
        problems.append(SeedProblem(path, label, field, message))
