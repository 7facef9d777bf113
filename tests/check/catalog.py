"""A catalog of the shipped GPUs and the reference models, written to a temporary directory.

The shipped ``catalog/models`` is edited by others while these tests run; the reference
configs in ``catalog/reference/models.json`` are fixed, so the gate's tests use those.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_JSON = REPO_ROOT / "catalog" / "reference" / "models.json"


def reference_models() -> list[dict[str, Any]]:
    """``models.json`` entries (repo_id, config, ...); a missing file fails, never skips."""
    if not MODELS_JSON.is_file():
        pytest.fail(f"{MODELS_JSON} is missing: the gate's tests read catalog/reference/")
    models: list[dict[str, Any]] = json.loads(MODELS_JSON.read_text(encoding="utf-8"))["models"]
    return models


def reference_config(repo_id: str) -> dict[str, Any]:
    """The config.json of one reference model."""
    return next(m["config"] for m in reference_models() if m["repo_id"] == repo_id)


def write_catalog(directory: Path) -> Path:
    """The shipped GPUs, engine profiles and calibration, and one seed file per reference model."""
    models = directory / "models"
    models.mkdir(parents=True)
    for name in ("gpus.yaml", "engines.yaml", "calibration.yaml"):
        shutil.copy(REPO_ROOT / "catalog" / name, directory / name)
    for model in reference_models():
        seed = {"repo_id": model["repo_id"], "source": str(MODELS_JSON), "config": model["config"]}
        name = model["repo_id"].replace("/", "--") + ".yaml"
        (models / name).write_text(yaml.safe_dump(seed), encoding="utf-8")
    return directory
