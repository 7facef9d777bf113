"""Import one Hub model into the catalog: the orchestration, over a HubClient and a repository.

The caller owns the transaction: the worker commits the catalog write together with the
job's completion, so a failed import writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from anyio import to_thread

from service.db.model_repository import ModelRepository
from service.db.models import ModelRow, Origin
from service.db.repository import Outcome
from service.hub.client import HubClient
from service.hub.errors import MalformedConfig
from service.importer.errors import ImportFailed
from service.importer.values import catalog_values

T = TypeVar("T")


class ImportResult(msgspec.Struct, frozen=True, kw_only=True):
    """What an import did to the catalog row ``model_id``."""

    model_id: str
    sha: str
    outcome: Outcome
    total_params: int
    active_params: int
    notes: str

    def __str__(self) -> str:
        return (
            f"{self.model_id}@{self.sha[:12]}: {self.outcome} "
            f"({self.total_params:,} parameters, {self.active_params:,} active)"
        )


async def import_model(
    hub: HubClient, models: ModelRepository, repo_id: str, revision: str | None = None
) -> ImportResult:
    """Pin ``repo_id`` at ``revision`` to a commit and write its model row (origin 'hub').

    An unchanged commit is a no-op. Rows an operator wrote are never overwritten. Raises
    :class:`~service.hub.errors.HubError` or :class:`ImportFailed`.
    """
    info = await _blocking(hub.model_info, repo_id, revision)
    model_id = info.repo_id
    existing = await models.get(model_id)
    if existing is not None and existing.origin == Origin.OPERATOR:
        raise ImportFailed(
            f"{model_id}: the catalog entry was written by an operator and is left alone; "
            f"DELETE /v1/models/{model_id} first to let the Hub importer manage it"
        )
    if existing is not None and existing.origin == Origin.HUB and existing.revision == info.sha:
        return _result(existing, info.sha, Outcome.UNCHANGED)
    raw = await _blocking(hub.download_config, model_id, info.sha)
    config = _config_object(model_id, raw)
    counts = info.safetensors_parameters
    if counts is None:
        counts = await _blocking(hub.safetensors_parameter_counts, model_id, info.sha)
    tensors = await _blocking(hub.safetensors_tensors, model_id, info.sha)
    values = catalog_values(info, config, counts, tensors)
    row, outcome = await models.upsert(model_id, values, origin=Origin.HUB)
    return _result(row, info.sha, outcome)


async def _blocking(function: Callable[..., T], *args: Any) -> T:
    """Run a blocking Hub call in a worker thread; cancelling abandons the thread."""
    return await to_thread.run_sync(function, *args, abandon_on_cancel=True)


def _config_object(repo_id: str, raw: bytes) -> dict[str, Any]:
    try:
        # json, not msgspec: published configs carry Infinity/NaN float limits (Nemotron-H's
        # time_step_limit), which Python's json reads as numbers.
        config = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedConfig(repo_id, f"not JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise MalformedConfig(repo_id, f"expected a JSON object, got {type(config).__name__}")
    return config


def _result(row: ModelRow, sha: str, outcome: Outcome) -> ImportResult:
    return ImportResult(
        model_id=row.id,
        sha=sha,
        outcome=outcome,
        total_params=row.total_params,
        active_params=row.active_params,
        notes=row.notes,
    )
