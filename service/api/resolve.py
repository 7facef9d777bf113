"""Turn request references (catalog ids, inline configs) into domain objects, or a problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.outage import UNAVAILABLE, GpuCache, discard, read_all_gpus, unavailable
from service.api.problems import Problem, UnprocessableArchitecture
from service.api.schemas import InlineModel, ModelRef
from service.db.gpu_repository import GpuRepository, gpu_spec_from_row
from service.db.model_repository import ModelRepository
from service.domain.architecture import Architecture, InvalidConfig, UnsupportedArchitecture
from service.domain.gpu import GpuSpec
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import ParameterCount, count_parameters


class ResolvedModel(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    architecture: Architecture
    parameters: ParameterCount


def normalise(
    config: Mapping[str, Any], name: str, field: str | None = "model.hf_config"
) -> ResolvedModel:
    """Normalise a config; malformed fields are 400, unmodelled features 422.

    ``field`` is where the config sits in the request body (``None``: not in the body); a 400
    then lists the offending config field under ``errors`` like any other invalid body field.
    """
    try:
        arch = architecture_from_config(config)
    except InvalidConfig as exc:
        errors = None
        if field is not None:
            errors = [{"message": exc.detail, "key": f"{field}.{exc.field}", "source": "body"}]
        raise Problem(400, f"{field or name}: {exc}", errors=errors) from exc
    except UnsupportedArchitecture as exc:
        raise UnprocessableArchitecture(f"{name}: {exc}") from exc
    return ResolvedModel(name=name, architecture=arch, parameters=count_parameters(arch))


async def resolve_model(session: AsyncSession, ref: ModelRef) -> ResolvedModel:
    """A catalog repo id (404 when unknown) or an inline ``{"hf_config": {...}}``."""
    if isinstance(ref, InlineModel):
        return normalise(ref.hf_config, "inline hf_config")
    row = await ModelRepository(session).get(ref)
    if row is None:
        raise Problem(
            404,
            f"model '{ref}' is not in the catalog; POST it to /v1/models, "
            f'import it with POST /v1/imports, or pass {{"hf_config": ...}}',
        )
    return normalise(row.config, row.id, field=None)


async def resolve_gpu(session: AsyncSession, gpu_id: str, cache: GpuCache | None = None) -> GpuSpec:
    """A catalog GPU (404 when unknown); from ``cache`` when the database is unreachable."""
    try:
        row = await GpuRepository(session).get(gpu_id)
    except UNAVAILABLE as exc:
        cached = cache.get(gpu_id) if cache is not None and unavailable(exc) else None
        if cached is None:
            raise
        await discard(session)
        return cached
    if row is None:
        if cache is not None:
            cache.forget(gpu_id)
        raise Problem(404, f"GPU '{gpu_id}' is not in the catalog; GET /v1/gpus lists them")
    gpu = gpu_spec_from_row(row)
    if cache is not None:
        cache.put(gpu)
    return gpu


async def resolve_gpus(
    session: AsyncSession, gpu_ids: list[str] | None, cache: GpuCache | None = None
) -> list[GpuSpec]:
    """The named GPUs (404 naming any unknown id), or the whole catalog."""
    if gpu_ids is not None:
        return [await resolve_gpu(session, gpu_id, cache) for gpu_id in dict.fromkeys(gpu_ids)]
    try:
        return await read_all_gpus(session, cache)
    except UNAVAILABLE as exc:
        cached = cache.all() if cache is not None and unavailable(exc) else None
        if cached is None:
            raise
        await discard(session)
        return cached
