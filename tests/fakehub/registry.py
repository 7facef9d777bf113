"""The fake Hub's state: repositories, injected faults and the request log.

Tests mutate it from their own thread while the server thread reads it, so every access
goes through one lock.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.fakehub.blobs import Blob, BytesBlob, SafetensorsBlob, Tensors, parameter_counts

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FakeModel:
    """One repository, frozen at a single commit ``sha`` (also served as ``main``)."""

    repo_id: str
    sha: str
    files: Mapping[str, Blob]
    created_at: datetime
    author: str
    gated: bool | str = False
    authorized_tokens: frozenset[str] = frozenset()
    pipeline_tag: str | None = "text-generation"
    library_name: str | None = "transformers"
    api_safetensors: Mapping[str, object] | None = None
    config_subset: Mapping[str, object] | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake Hub received it (header names lower-cased)."""

    method: str
    path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]


@dataclass
class Fault:
    """Answer the next ``times`` requests under ``path_prefix`` with ``status``, or stall them."""

    path_prefix: str
    times: int
    status: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)
    stall_s: float = 0.0


class FakeHub:
    """An in-memory Hub: register models, inject faults, inspect requests."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.page_size = 1000
        self._models: dict[str, FakeModel] = {}
        self._faults: list[Fault] = []
        self._requests: list[RecordedRequest] = []

    def add_model(
        self,
        repo_id: str,
        config: Mapping[str, object] | bytes | None,
        *,
        sha: str | None = None,
        safetensors: Tensors | None = None,
        shards: int = 1,
        api_safetensors: bool = True,
        gated: bool | str = False,
        authorized_tokens: Sequence[str] = (),
        created_at: datetime | None = None,
        author: str | None = None,
        pipeline_tag: str | None = "text-generation",
        library_name: str | None = "transformers",
        files: Mapping[str, bytes] | None = None,
    ) -> FakeModel:
        """Register ``repo_id``; ``config=None`` leaves out ``config.json``.

        ``safetensors`` (tensor name -> (dtype, shape)) becomes ``model.safetensors``, or
        ``shards`` files plus ``model.safetensors.index.json``. ``api_safetensors=False``
        hides the counts from ``/api/models`` so clients must read the headers.
        ``gated`` repos serve files only to ``authorized_tokens``.
        """
        blobs: dict[str, Blob] = {}
        if config is not None:
            raw = config if isinstance(config, bytes) else json.dumps(config).encode()
            blobs["config.json"] = BytesBlob(raw)
        if safetensors is not None:
            blobs.update(_safetensors_files(safetensors, shards))
        blobs.update({name: BytesBlob(data) for name, data in (files or {}).items()})
        with self.lock:
            model = FakeModel(
                repo_id=repo_id,
                sha=sha or hashlib.sha1(repo_id.encode(), usedforsecurity=False).hexdigest(),
                files=blobs,
                created_at=created_at or _EPOCH + timedelta(minutes=len(self._models)),
                author=author or repo_id.split("/")[0],
                gated=gated,
                authorized_tokens=frozenset(authorized_tokens),
                pipeline_tag=pipeline_tag,
                library_name=library_name,
                api_safetensors=_api_counts(safetensors) if api_safetensors else None,
                config_subset=_config_subset(config),
            )
            self._models[repo_id.lower()] = model
        return model

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests under ``path_prefix`` with ``status``."""
        with self.lock:
            self._faults.append(Fault(path_prefix, times, status=status, headers=headers or {}))

    def stall_next(self, path_prefix: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` matching requests ``seconds`` (less if the client leaves)."""
        with self.lock:
            self._faults.append(Fault(path_prefix, times, stall_s=seconds))

    def reset(self) -> None:
        """Forget every model, fault and recorded request."""
        with self.lock:
            self.page_size = 1000
            self._models.clear()
            self._faults.clear()
            self._requests.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self.lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        """The recorded requests whose path starts with ``path_prefix``."""
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    def get_model(self, repo_id: str) -> FakeModel | None:
        """The model registered as ``repo_id`` (case-insensitive, like the Hub)."""
        with self.lock:
            return self._models.get(repo_id.lower())

    def all_models(self) -> list[FakeModel]:
        with self.lock:
            return list(self._models.values())

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self._requests.append(request)

    def take_fault(self, path: str) -> Fault | None:
        """Consume one use of the first fault matching ``path``."""
        with self.lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


def _safetensors_files(tensors: Tensors, shards: int) -> dict[str, Blob]:
    if shards <= 1:
        return {SINGLE_FILE: SafetensorsBlob(tensors)}
    names = [f"model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]
    parts: list[dict[str, tuple[str, Sequence[int]]]] = [{} for _ in names]
    weight_map: dict[str, str] = {}
    for i, (tensor, spec) in enumerate(tensors.items()):
        parts[i % shards][tensor] = spec
        weight_map[tensor] = names[i % shards]
    blobs: dict[str, Blob] = {
        name: SafetensorsBlob(part) for name, part in zip(names, parts, strict=True)
    }
    total_size = sum(blob.size for blob in blobs.values())
    index = {"metadata": {"total_size": total_size}, "weight_map": weight_map}
    blobs[INDEX_FILE] = BytesBlob(json.dumps(index).encode())
    return blobs


def _api_counts(tensors: Tensors | None) -> Mapping[str, object] | None:
    if tensors is None:
        return None
    counts = parameter_counts(tensors)
    return {"parameters": counts, "total": sum(counts.values())}


def _config_subset(config: Mapping[str, object] | bytes | None) -> Mapping[str, object] | None:
    """The few config keys the Hub repeats in ``/api/models`` (``expand=config``)."""
    if not isinstance(config, Mapping):
        return None
    keys = ("architectures", "model_type", "quantization_config")
    return {key: config[key] for key in keys if key in config}
