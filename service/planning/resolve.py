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
)
from service.planning.names import alias_target, suggest_gpus, suggest_models

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


async def model_aliases(session: AsyncSession) -> dict[str, str]:
    """Every catalog alias -> the repo id it names."""
    rows = (await ModelRepository(session).find(limit=10_000)).items
    return {alias: row.id for row in rows for alias in row.aliases or ()}


async def model_not_found(session: AsyncSession, model_id: str) -> ModelNotFound:
    """The refusal for an unknown model id, with the nearest catalog ids (read only now)."""
    rows = (await ModelRepository(session).find(limit=10_000)).items
    aliases = {alias: row.id for row in rows for alias in row.aliases or ()}
    return ModelNotFound(model_id, suggest_models(model_id, [r.id for r in rows], 3, aliases))


async def gpu_not_found(session: AsyncSession, gpu_id: str) -> GpuNotFound:
    """The refusal for an unknown GPU id, with the nearest catalog ids (a family's variants)."""
    rows = (await GpuRepository(session).find(limit=10_000)).items
    return GpuNotFound(gpu_id, suggest_gpus(gpu_id, [(r.id, r.name) for r in rows]))


async def resolve_model(session: AsyncSession, ref: ModelRef) -> ResolvedModel:
    """A catalog repo id or one of a model's aliases (:class:`ModelNotFound` when neither),
    or an inline config."""
    if isinstance(ref, InlineModel):
        return normalise(ref.hf_config, "inline hf_config")
    row = await ModelRepository(session).get(ref)
    alias = None
    if row is None:
        target = alias_target(ref, await model_aliases(session))
        row = await ModelRepository(session).get(target) if target is not None else None
        if row is None:
            raise await model_not_found(session, ref)
        alias = ref
    resolved = msgspec.structs.replace(normalise(row.config, row.id, field=None), alias=alias)
    if not row.checkpoint_bytes_by_dtype:
        return resolved
    exact = sum(row.checkpoint_bytes_by_dtype.values())
    arch = msgspec.structs.replace(resolved.architecture, checkpoint_bytes=exact)
    return msgspec.structs.replace(resolved, architecture=arch)


async def resolve_gpu(session: AsyncSession, gpu_id: str, cache: GpuCache | None = None) -> GpuSpec:
    """A catalog GPU (:class:`GpuNotFound` when unknown); from ``cache`` in an outage."""
    try:
        row = await GpuRepository(session).get(gpu_id)
    except UNAVAILABLE as exc:
        if not unavailable(exc):
            raise
        cached = cache.get(gpu_id) if cache is not None else None
        if cached is None:
            raise CatalogUnavailable(f"the GPU catalog is unavailable ({gpu_id})") from exc
        await discard(session)
        return cached
    if row is None:
        if cache is not None:
            cache.forget(gpu_id)
        raise await gpu_not_found(session, gpu_id)
    gpu = gpu_spec_from_row(row)
    if cache is not None:
        cache.put(gpu)
    return gpu


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
