"""Where the reference measurements live and how they are read (the package's file I/O).

The public reference data is vendored in the catalog: ``catalog/reference/`` holds
``vllm_memory.json`` and ``latency.json`` (each datapoint with its source; new data is merged in
by ``scripts/merge_reference.py``); our own H200 roofline run is at
``bench/results/gpu_roofline_h200.json``. Nothing outside the repository is read. Missing files
raise :class:`ReferenceMissing` with the path that was looked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from service.catalog_files import CALIBRATION_FILE, load_calibration
from service.settings import SOURCE_ROOT, Settings, default_catalog_dir

__all__ = ["CALIBRATION_FILE", "load_calibration"]  # re-exported for the report and bench

REPO_ROOT = SOURCE_ROOT
CATALOG_DIR = default_catalog_dir()
ROOFLINE_FILE = REPO_ROOT / "bench" / "results" / "gpu_roofline_h200.json"
REFERENCE_FILES = ("vllm_memory.json", "latency.json")


class ReferenceMissing(FileNotFoundError):
    """A reference file is not where it was looked for."""


class ReferenceData(msgspec.Struct, frozen=True, kw_only=True):
    """The datapoints of every reference file, as published (dicts)."""

    directory: str
    vllm_memory: list[dict[str, Any]]
    latency: list[dict[str, Any]]
    roofline: list[dict[str, Any]]
    roofline_gpu: str


def default_reference_dir() -> Path:
    """``<catalog dir>/reference`` (``CAPPLAN_CATALOG_DIR``): the vendored public measurements."""
    return Settings.from_env().reference_dir


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise ReferenceMissing(f"reference file not found: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_reference(directory: Path | None = None, roofline: Path = ROOFLINE_FILE) -> ReferenceData:
    """Read the reference files (default :func:`default_reference_dir`) and the H200 roofline."""
    root = directory or default_reference_dir()
    if not root.is_dir():
        raise ReferenceMissing(
            f"reference directory not found: {root} (expected {', '.join(REFERENCE_FILES)}; "
            "pass --reference-dir)"
        )
    memory = _read_json(root / "vllm_memory.json")
    latency = _read_json(root / "latency.json")
    bench = _read_json(roofline)
    return ReferenceData(
        directory=str(root),
        vllm_memory=list(memory["datapoints"]),
        latency=list(latency["datapoints"]),
        roofline=list(bench["records"]),
        roofline_gpu=str(bench.get("gpu", "unknown")),
    )
