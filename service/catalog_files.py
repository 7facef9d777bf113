"""Bundled data files under the catalog directory that are not database rows: engine profiles
and the fitted latency calibration.

This adapter does the file I/O; the domain only validates the parsed documents. Paths come from
the settings (``CAPPLAN_CATALOG_DIR``); the ``default_*`` readers cache one parse per path.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from service.domain.calibration import Calibration, calibration_from_document
from service.domain.engine import EngineCatalog, EngineProfile, engine_catalog_from_document
from service.settings import Settings, default_catalog_dir

CALIBRATION_FILE = default_catalog_dir() / "calibration.yaml"
"""The calibration bundled with the source (``bench/calibrate.py`` writes it)."""


def _settings_catalog_dir() -> Path:
    return Settings.from_env().catalog_dir


def load_engine_profiles(path: Path | None = None) -> EngineCatalog:
    """Read and validate an engines file (default: ``<catalog_dir>/engines.yaml``)."""
    path = path or _settings_catalog_dir() / "engines.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: expected a mapping with 'engines' and 'default'")
    try:
        return engine_catalog_from_document(document)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


@functools.cache
def engine_catalog_at(path: Path) -> EngineCatalog:
    """The engines file at ``path``, read once per process."""
    return load_engine_profiles(path)


def engine_catalog(catalog_dir: Path | None = None) -> EngineCatalog:
    """Every profile of the catalog's engines file (cached per path)."""
    return engine_catalog_at((catalog_dir or _settings_catalog_dir()) / "engines.yaml")


def default_engine_profile(catalog_dir: Path | None = None) -> EngineProfile:
    """The default profile of the catalog's engines file."""
    return engine_catalog_at((catalog_dir or _settings_catalog_dir()) / "engines.yaml").get()


def load_calibration(path: Path | None = None) -> Calibration:
    """A calibration file (default: ``<catalog_dir>/calibration.yaml``)."""
    path = path or _settings_catalog_dir() / "calibration.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"calibration file not found: {path}")
    return calibration_from_document(yaml.safe_load(path.read_text(encoding="utf-8")))


@functools.cache
def calibration_at(path: Path) -> Calibration:
    """The calibration file at ``path``, read once per process."""
    return load_calibration(path)


def default_calibration(catalog_dir: Path | None = None) -> Calibration:
    """The catalog's calibration."""
    return calibration_at((catalog_dir or _settings_catalog_dir()) / "calibration.yaml")
