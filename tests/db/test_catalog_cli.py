"""``capplan catalog sync``: counts on stdout, exit 2 and no writes on an invalid seed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.cli import main
from service.db.models import GpuRow, ModelRow
from service.db.seed_loader import load_catalog
from service.db.session import create_engine
from service.settings import default_catalog_dir

WriteCatalog = Callable[..., Path]


def catalog_rows(database_url: str) -> list[tuple[Any, ...]]:
    """Every catalog row's id, version and updated_at."""

    async def read() -> list[tuple[Any, ...]]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                gpus = await connection.execute(
                    select(GpuRow.id, GpuRow.version, GpuRow.updated_at)
                )
                models = await connection.execute(select(ModelRow.id, ModelRow.version))
                return sorted([tuple(row) for row in gpus] + [tuple(row) for row in models])
        finally:
            await engine.dispose()

    return asyncio.run(read())


def sync(catalog_dir: Path, database_url: str) -> int:
    return main(
        ["catalog", "sync", "--catalog-dir", str(catalog_dir), "--database-url", database_url]
    )


def test_sync_prints_counts_and_succeeds(
    db_url: str, write_catalog: WriteCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    """Syncing into an empty database migrates it, inserts every seed and prints the counts."""
    assert sync(write_catalog(), db_url) == 0
    assert capsys.readouterr().out.splitlines() == [
        "gpus: 2 inserted, 0 updated, 0 unchanged, 0 skipped (operator/hub)",
        "models: 1 inserted, 0 updated, 0 unchanged, 0 skipped (operator/hub)",
    ]
    assert [row[0] for row in catalog_rows(db_url)] == ["h100-sxm", "l4", "tiny-org/tiny-llama"]


def test_sync_twice_reports_unchanged(
    db_url: str, write_catalog: WriteCatalog, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second run with the same files reports everything unchanged."""
    catalog_dir = write_catalog()
    sync(catalog_dir, db_url)
    capsys.readouterr()
    assert sync(catalog_dir, db_url) == 0
    assert "gpus: 0 inserted, 0 updated, 2 unchanged" in capsys.readouterr().out


def _missing_field(gpus: list[dict[str, Any]]) -> None:
    del gpus[1]["memory_bandwidth_bytes_per_s"]


def _negative_bandwidth(gpus: list[dict[str, Any]]) -> None:
    gpus[1]["memory_bandwidth_bytes_per_s"] = -300e9


def _duplicate_id(gpus: list[dict[str, Any]]) -> None:
    gpus.append(dict(gpus[1]))


@pytest.mark.parametrize(
    ("break_seed", "entry", "field"),
    [
        (_missing_field, "#1 'l4'", "memory_bandwidth_bytes_per_s"),
        (_negative_bandwidth, "#1 'l4'", "memory_bandwidth_bytes_per_s"),
        (_duplicate_id, "#2 'l4'", "id"),
    ],
    ids=["missing-field", "negative-bandwidth", "duplicate-id"],
)
def test_invalid_seed_exits_2_and_writes_nothing(
    db_url: str,
    write_catalog: WriteCatalog,
    gpu_seeds: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    break_seed: Callable[[list[dict[str, Any]]], None],
    entry: str,
    field: str,
) -> None:
    """A bad seed is named by file, entry and field on stderr, and the database is untouched."""
    gpu_seeds[0]["price_per_hour_usd"] = 1.0
    sync(write_catalog(gpus=gpu_seeds), db_url)
    before = catalog_rows(db_url)
    capsys.readouterr()
    gpu_seeds[0]["price_per_hour_usd"] = 9.0  # a valid change that must not be written either
    break_seed(gpu_seeds)
    assert sync(write_catalog(gpus=gpu_seeds), db_url) == 2
    captured = capsys.readouterr()
    assert f"gpus.yaml: entry {entry}: field '{field}'" in captured.err
    assert captured.out == ""
    assert catalog_rows(db_url) == before


def test_unreachable_database_exits_1(
    write_catalog: WriteCatalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database that cannot be opened is an error on stderr with exit status 1."""
    (tmp_path / "blocker").write_text("a file where a directory should be")
    url = f"sqlite+aiosqlite:///{tmp_path / 'blocker' / 'capplan.db'}"
    assert sync(write_catalog(), url) == 1
    assert "catalog sync: database error" in capsys.readouterr().err


def test_the_shipped_catalog_is_valid() -> None:
    """The repository's own catalog/ passes validation."""
    catalog = load_catalog(default_catalog_dir())
    assert catalog.gpus
    assert catalog.models


def test_bad_environment_exits_1(
    write_catalog: WriteCatalog, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid setting in the environment is reported by variable name, exit status 1."""
    monkeypatch.setenv("CAPPLAN_HUB_TIMEOUT_S", "never")
    assert main(["catalog", "sync", "--catalog-dir", str(write_catalog())]) == 1
    assert "CAPPLAN_HUB_TIMEOUT_S" in capsys.readouterr().err
