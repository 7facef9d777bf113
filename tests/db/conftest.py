"""Database fixtures: every ``db_url`` test runs on SQLite and on PostgreSQL.

PostgreSQL needs ``CAPPLAN_TEST_POSTGRES_URL`` (``.ci/run`` starts a throwaway server and sets
it); the role must be allowed to ``CREATE DATABASE``, since each test gets a database of its own.
Without it the PostgreSQL cases are skipped locally and fail in CI (``CI`` set); they carry the
``postgres`` marker (``-m "not postgres"`` leaves them out).

Each test's database is a copy of a session-wide template (``tests/databases.py``): empty, or
migrated when the test uses ``engine``, or migrated and seeded when a conftest's ``db_template``
says so (``tests/api``). Copying is what makes the API suite fast; the state is the same.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from service.db.session import create_engine, create_sessionmaker, migrate_to_head
from service.settings import default_catalog_dir
from tests.databases import MIGRATED, DbTemplate, Templates
from tests.postgres import fresh_database

TINY_LLAMA_CONFIG: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "num_hidden_layers": 2,
    "vocab_size": 1000,
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}

GPU_SEEDS: list[dict[str, Any]] = [
    {
        "id": "h100-sxm",
        "name": "NVIDIA H100 SXM5 80GB",
        "vendor": "nvidia",
        "memory_bytes": 85_045_870_592,
        "nominal_memory_gb": 80,
        "memory_note": "79.2 GiB reported by the runtime",
        "memory_bandwidth_bytes_per_s": 3.35e12,
        "dense_tflops_bf16": 989,
        "dense_tflops_fp16": 989,
        "dense_tflops_fp8": 1979,
        "dense_tops_int8": 1979,
        "dense_tflops_fp4": None,
        "interconnect": "nvlink4",
        "interconnect_bandwidth_bytes_per_s": 450e9,
        "max_gpus_per_node": 8,
        "tdp_watts": 700,
        "price_per_hour_usd": 2.5,
        "price_note": "typical on-demand",
        "sources": ["https://example.org/h100"],
        "verified": True,
        "notes": "dense figures",
    },
    {
        "id": "l4",
        "name": "NVIDIA L4",
        "vendor": "nvidia",
        "memory_bytes": 23_580_639_232,
        "memory_bandwidth_bytes_per_s": 300e9,
        "dense_tflops_bf16": 121,
        "dense_tflops_fp16": 121,
        "interconnect": "pcie",
        "interconnect_bandwidth_bytes_per_s": 32e9,
        "max_gpus_per_node": 8,
        "sources": ["https://example.org/l4"],
        "verified": False,
    },
]

MODEL_SEED: dict[str, Any] = {
    "repo_id": "tiny-org/tiny-llama",
    "source": "https://example.org/tiny-llama/config.json",
    "published_total_params": 202_048,
    "config": TINY_LLAMA_CONFIG,
}

CatalogWriter = Callable[..., Path]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(  # the fixtures it needs are in tests/conftest.py
    request: pytest.FixtureRequest,
    tmp_path: Path,
    db_template: DbTemplate,
    database_templates: Templates,
) -> Iterator[str]:
    """The URL of a database of its own on each backend, as ``db_template`` says."""
    backend: str = request.param
    sqlite_path = tmp_path / "capplan.db"
    if db_template is None:
        if backend == "sqlite":
            yield f"sqlite+aiosqlite:///{sqlite_path}"
        else:
            yield request.getfixturevalue("postgres_url")
        return
    seed = None if db_template == MIGRATED else Path(db_template)
    with database_templates.copy(backend, sqlite_path, seed) as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; skipped locally without a server."""
    with fresh_database() as url:
        yield url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head."""
    engine = create_engine(db_url)
    await migrate_to_head(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def write_catalog(tmp_path: Path) -> CatalogWriter:
    """Write ``gpus.yaml`` and ``models/*.yaml`` under ``tmp_path/catalog`` beside the shipped
    engine profiles and calibration; return the dir."""

    def write(
        gpus: list[dict[str, Any]] | None = None,
        models: list[dict[str, Any]] | None = None,
    ) -> Path:
        root = tmp_path / "catalog"
        (root / "models").mkdir(parents=True, exist_ok=True)
        for name in ("engines.yaml", "calibration.yaml"):
            shutil.copy(default_catalog_dir() / name, root / name)
        chosen = GPU_SEEDS if gpus is None else gpus
        (root / "gpus.yaml").write_text(yaml.safe_dump({"gpus": chosen}, sort_keys=False))
        for old in (root / "models").iterdir():
            old.unlink()
        for model in [MODEL_SEED] if models is None else models:
            stem = str(model.get("repo_id", "unnamed")).replace("/", "--")
            (root / "models" / f"{stem}.yaml").write_text(yaml.safe_dump(model, sort_keys=False))
        return root

    return write


@pytest.fixture
def gpu_seeds() -> list[dict[str, Any]]:
    """Two valid GPU entries, safe to mutate."""
    return copy.deepcopy(GPU_SEEDS)


@pytest.fixture
def model_seed() -> dict[str, Any]:
    """A valid model seed with a tiny llama config, safe to mutate."""
    return copy.deepcopy(MODEL_SEED)
