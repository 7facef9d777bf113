"""Write the validated seed catalog into the database, in one transaction.

Seed rows are inserted or brought up to date with their files; rows an operator or the Hub
importer wrote are left alone. A second run with the same files changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.gpu_repository import GpuRepository
from service.db.model_columns import derived_model_columns
from service.db.model_repository import ModelRepository
from service.db.models import Origin
from service.db.repository import Outcome
from service.db.seed_loader import ModelEntry, SeedCatalog
from service.db.seed_schema import GpuSeed


@dataclass
class SyncCounts:
    """What sync did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows owned by an operator or the Hub importer

    def __str__(self) -> str:
        return (
            f"{self.inserted} inserted, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.skipped} skipped (operator/hub)"
        )


@dataclass
class SyncReport:
    gpus: SyncCounts = field(default_factory=SyncCounts)
    models: SyncCounts = field(default_factory=SyncCounts)

    def __str__(self) -> str:
        return f"gpus: {self.gpus}\nmodels: {self.models}"


async def sync_catalog(
    sessionmaker: async_sessionmaker[AsyncSession], catalog: SeedCatalog
) -> SyncReport:
    """Upsert every seed GPU and model; commit all of it or nothing."""
    report = SyncReport()
    async with sessionmaker.begin() as session:
        gpus = [(gpu.id, gpu_values(gpu)) for gpu in catalog.gpus]
        models = [(entry.seed.repo_id, model_values(entry)) for entry in catalog.models]
        await _apply(GpuRepository(session), gpus, report.gpus)
        await _apply(ModelRepository(session), models, report.models)
    return report


async def _apply(
    repository: GpuRepository | ModelRepository,
    rows: list[tuple[str, dict[str, Any]]],
    counts: SyncCounts,
) -> None:
    """Upsert seed rows, skipping those an operator or the Hub importer owns."""
    for row_id, values in rows:
        existing = await repository.get(row_id)
        if existing is not None and existing.origin != Origin.SEED:
            counts.skipped += 1
            continue
        _, outcome = await repository.upsert(row_id, values, origin=Origin.SEED)
        _count(counts, outcome)


def gpu_values(seed: GpuSeed) -> dict[str, Any]:
    """The ``gpus`` columns a seed entry sets; its notes on memory and price join ``notes``."""
    values = msgspec.structs.asdict(seed)
    del values["id"]
    memory_note, price_note = values.pop("memory_note"), values.pop("price_note")
    values["notes"] = _join_notes(seed.notes, ("Memory", memory_note), ("Price", price_note))
    return values


def model_values(entry: ModelEntry) -> dict[str, Any]:
    """The ``models`` columns a seed file sets: the config and what the domain derives from it."""
    seed = entry.seed
    return derived_model_columns(seed.config, entry.architecture, entry.parameters) | {
        "published_total_params": seed.published_total_params,
        "aliases": list(seed.aliases) or None,
        "notes": _join_notes(
            seed.notes,
            ("Source", seed.source),
            ("Published total parameters source", seed.published_total_params_source),
        ),
    }


def _join_notes(notes: str | None, *labelled: tuple[str, str | None]) -> str:
    lines = [notes.strip()] if notes and notes.strip() else []
    lines += [f"{label}: {text.strip()}" for label, text in labelled if text and text.strip()]
    return "\n".join(lines)


def _count(counts: SyncCounts, outcome: Outcome) -> None:
    if outcome is Outcome.INSERTED:
        counts.inserted += 1
    elif outcome is Outcome.UPDATED:
        counts.updated += 1
    else:
        counts.unchanged += 1
