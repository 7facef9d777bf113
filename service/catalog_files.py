"""Bundled data files under ``catalog/`` that are not database rows: engine profiles and
the fitted latency calibration.

This adapter does the file I/O; the domain only validates the parsed documents.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

import service
from service.domain.calibration import Calibration, calibration_from_document
from service.domain.engine import EngineCatalog, EngineProfile, engine_catalog_from_document

CATALOG_DIR = Path(service.__file__).resolve().parent.parent / "catalog"
ENGINES_FILE = CATALOG_DIR / "engines.yaml"
"""The bundled engine profiles (``catalog/engines.yaml`` next to the ``service`` package)."""
CALIBRATION_FILE = CATALOG_DIR / "calibration.yaml"
"""Efficiency factors fitted by ``bench/calibrate.py`` (see docs/validation.md)."""


def load_engine_profiles(path: Path = ENGINES_FILE) -> EngineCatalog:
    """Read and validate an engines file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping with 'engines' and 'default'")
    return engine_catalog_from_document(document)


@functools.cache
def default_engine_profile() -> EngineProfile:
    """The default profile of the bundled engines file (read once per process)."""
    return load_engine_profiles().get()


def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """``catalog/calibration.yaml`` as a :class:`~service.domain.calibration.Calibration`."""
    if not path.is_file():
        raise FileNotFoundError(f"calibration file not found: {path}")
    return calibration_from_document(yaml.safe_load(path.read_text(encoding="utf-8")))


@functools.cache
def default_calibration() -> Calibration:
    """The bundled calibration (read once per process)."""
    return load_calibration()
