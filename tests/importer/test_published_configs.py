"""Configs as the Hub publishes them: Infinity float limits, hybrid layers, the stored verdict."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.model_repository import ModelRepository
from service.importer.model_import import import_model
from tests.domain.reference import REFERENCE_DIR, load_reference
from tests.importer.memory_hub import MemoryHub
from tests.importer.models import SHA_1

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]
NANO = "nvidia/NVIDIA-Nemotron-Nano-9B-v2"


def _nano() -> dict[str, Any]:
    models = load_reference(REFERENCE_DIR / "models_2025.json")["models"]
    [entry] = [m for m in models if m["repo_id"] == NANO]
    return entry


async def test_infinity_in_config_imports_with_an_exact_verdict(sessionmaker: Sessions) -> None:
    """Nemotron-H's time_step_limit [0.0, Infinity] is read; the Hub total checks out exactly."""
    entry = _nano()
    config = {**entry["config"], "time_step_limit": [0.0, math.inf]}
    hub = MemoryHub()
    hub.add(NANO, config, SHA_1, {"BF16": entry["hub_safetensors_total"]})
    assert b"Infinity" in hub.configs[NANO]

    async with sessionmaker.begin() as session:
        await import_model(hub, ModelRepository(session), NANO)
    async with sessionmaker() as session:
        row = await ModelRepository(session).require(NANO)
    assert (row.parameter_check, row.total_params) == ("exact", entry["hub_safetensors_total"])
    json.dumps(row.config, allow_nan=False)  # stored without non-finite numbers


async def test_unexplained_total_is_stored_as_mismatch(sessionmaker: Sessions) -> None:
    """A Hub total no convention explains is kept as 'mismatch' for /v1/models to show."""
    entry = _nano()
    hub = MemoryHub()
    hub.add(NANO, entry["config"], SHA_1, {"BF16": entry["hub_safetensors_total"] + 7})
    async with sessionmaker.begin() as session:
        await import_model(hub, ModelRepository(session), NANO)
    async with sessionmaker() as session:
        row = await ModelRepository(session).require(NANO)
    assert row.parameter_check == "mismatch"
