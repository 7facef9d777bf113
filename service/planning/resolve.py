"""Turn a question's references (catalog ids, inline configs) into domain objects.

Raises the errors of :mod:`service.planning.errors`; the adapters say them in their own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from service.contract.schemas import InlineModel, ModelRef
from service.db.gpu_repository import GpuRepository, gpu_spec_from_row
from service.db.model_repository import ModelRepository
from service.db.models import GpuRow, ModelRow
from service.db.outage import UNAVAILABLE, GpuCache, discard, read_all_gpus, unavailable
from service.domain.architecture import Architecture, InvalidConfig, UnsupportedArchitecture
from service.domain.gpu import GpuSpec
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import ParameterCount, count_parameters
from service.planning.errors import (
    CatalogUnavailable,
    GpuNotFound,
    InvalidModelConfig,
    ModelNotFound,
    UnsupportedModel,
    quoted,
)
from service.planning.names import alias_target, same_id, suggest_gpus, suggest_models

#: Parameters a config may imply: 1000x the largest released model (~1.6e12), so that
#: counts and byte sizes stay far inside int64 columns and float arithmetic.
MAX_PARAMETERS = 10**15


class ResolvedModel(msgspec.Struct, frozen=True, kw_only=True):
    """``name`` is the catalog id; ``alias`` the name asked for when it was one of the
    model's catalog aliases (adapters say "alias -> name")."""

    name: str
    architecture: Architecture
    parameters: ParameterCount
    alias: str | None = None


def normalise(
    config: Mapping[str, Any], name: str, field: str | None = "model.hf_config"
) -> ResolvedModel:
    """Normalise a config: a malformed field is :class:`InvalidModelConfig`, an unmodelled
    feature :class:`UnsupportedModel`.

    ``field`` is where the config sits in the question (``None``: not in the question); the
    error then names ``<field>.<config field>``.
    """
    try:
        arch = architecture_from_config(config)
    except InvalidConfig as exc:
        where = f"{field}.{exc.field}" if field is not None else None
        raise InvalidModelConfig(f"{field or name}: {exc}", field=where, reason=exc.detail) from exc
    except UnsupportedArchitecture as exc:
        raise UnsupportedModel(f"{name}: {exc}") from exc
    parameters = count_parameters(arch)
    if parameters.total > MAX_PARAMETERS:
        detail = f"implies {parameters.total:.3g} parameters, more than {MAX_PARAMETERS:.0e}"
        raise InvalidModelConfig(f"{field or name}: {detail}", field=field, reason=detail)
    return ResolvedModel(name=name, architecture=arch, parameters=parameters)


async def _model_row(session: AsyncSession, model_id: str) -> tuple[ModelRow, bool]:
    """The catalog row a question's ``model_id`` names, and whether by one of its aliases.

    The id as stored; else the one id it spells in other letter case (Hugging Face ids are
    case-insensitive); else the model one of its aliases names. Otherwise
    :class:`ModelNotFound` with the nearest catalog ids (the whole catalog is read only now).
    Catalog reads (``GET /v1/models/{id}``) take the id as stored: :func:`model_not_found`.
    """
    repository = ModelRepository(session)
    row = await repository.get(model_id)
    if row is not None:
        return row, False
    rows = {row.id: row for row in (await repository.find(limit=10_000)).items}
    if (same := same_id(model_id, rows)) is not None:
        return rows[same], False
    by_alias = {alias: row.id for row in rows.values() for alias in row.aliases or ()}
    target = alias_target(model_id, by_alias)
    if target is not None:
        return rows[target], True
    raise ModelNotFound(model_id, suggest_models(model_id, list(rows), 3, by_alias))


async def model_not_found(session: AsyncSession, model_id: str) -> ModelNotFound:
    """The refusal for an unknown model id, with the nearest catalog ids (read only now)."""
    rows = (await ModelRepository(session).find(limit=10_000)).items
    aliases = {alias: row.id for row in rows for alias in row.aliases or ()}
    return ModelNotFound(model_id, suggest_models(model_id, [r.id for r in rows], 3, aliases))


async def gpu_not_found(session: AsyncSession, gpu_id: str) -> GpuNotFound:
    """The refusal for an unknown GPU id, with the nearest catalog ids (a family's variants)."""
    rows = (await GpuRepository(session).find(limit=10_000)).items
    return GpuNotFound(gpu_id, suggest_gpus(gpu_id, [(r.id, r.name) for r in rows]))


async def _gpu_row(session: AsyncSession, gpu_id: str) -> GpuRow:
    """The catalog row a question's ``gpu_id`` names, in any letter case (``H100-SXM``);
    :class:`GpuNotFound` with the nearest ids (a family's variants) when there is none."""
    repository = GpuRepository(session)
    row = await repository.get(gpu_id)
    if row is not None:
        return row
    rows = {row.id: row for row in (await repository.find(limit=10_000)).items}
    if (same := same_id(gpu_id, rows)) is not None:
        return rows[same]
    raise GpuNotFound(gpu_id, suggest_gpus(gpu_id, [(row.id, row.name) for row in rows.values()]))


async def resolve_model(session: AsyncSession, ref: ModelRef) -> ResolvedModel:
    """A catalog repo id in any letter case, or one of a model's aliases (:class:`ModelNotFound`
    when neither), or an inline config. ``name`` is the catalog's spelling of the id."""
    if isinstance(ref, InlineModel):
        return normalise(ref.hf_config, "inline hf_config")
    row, by_alias = await _model_row(session, ref)
    resolved = normalise(row.config, row.id, field=None)
    if by_alias:
        resolved = msgspec.structs.replace(resolved, alias=ref)
    if not row.checkpoint_bytes_by_dtype:
        return resolved
    exact = sum(row.checkpoint_bytes_by_dtype.values())
    arch = msgspec.structs.replace(resolved.architecture, checkpoint_bytes=exact)
    return msgspec.structs.replace(resolved, architecture=arch)


async def resolve_gpu(session: AsyncSession, gpu_id: str, cache: GpuCache | None = None) -> GpuSpec:
    """A catalog GPU in any letter case (:class:`GpuNotFound` when unknown); from ``cache``
    in an outage."""
    try:
        row = await _gpu_row(session, gpu_id)
    except UNAVAILABLE as exc:
        if not unavailable(exc):
            raise
        cached = _cached_gpu(cache, gpu_id)
        if cached is None:
            raise CatalogUnavailable(f"the GPU catalog is unavailable ({quoted(gpu_id)})") from exc
        await discard(session)
        return cached
    except GpuNotFound:
        if cache is not None:
            cache.forget(gpu_id)
        raise
    gpu = gpu_spec_from_row(row)
    if cache is not None:
        cache.put(gpu)
    return gpu


def _cached_gpu(cache: GpuCache | None, gpu_id: str) -> GpuSpec | None:
    """The outage cache's copy of ``gpu_id``, in any letter case."""
    if cache is None:
        return None
    if (gpu := cache.get(gpu_id)) is not None:
        return gpu
    same = same_id(gpu_id, [gpu.id for gpu in cache.all() or ()])
    return cache.get(same) if same is not None else None


async def resolve_gpus(
    session: AsyncSession, gpu_ids: list[str] | None, cache: GpuCache | None = None
) -> list[GpuSpec]:
    """The named GPUs (:class:`GpuNotFound` naming any unknown id), or the whole catalog."""
    if gpu_ids is not None:
        return [await resolve_gpu(session, gpu_id, cache) for gpu_id in dict.fromkeys(gpu_ids)]
    try:
        return await read_all_gpus(session, cache)
    except UNAVAILABLE as exc:
        if not unavailable(exc):
            raise
        cached = cache.all() if cache is not None else None
        if cached is None:
            raise CatalogUnavailable("the GPU catalog is unavailable") from exc
        await discard(session)
        return cached
