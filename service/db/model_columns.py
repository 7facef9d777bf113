"""The ``models`` columns derived from a config, written the same way by every writer.

Catalog sync, the API and the Hub importer all store a model through this one function, so
the stored architecture and counts cannot drift between them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from service.domain.architecture import Architecture
from service.domain.parameters import ParameterCount


def as_json(value: Any) -> Any:
    """The value as a JSON column reads it back (lists, not tuples), so reruns compare equal."""
    return msgspec.json.decode(msgspec.json.encode(value))


def derived_model_columns(
    config: Mapping[str, Any], architecture: Architecture, parameters: ParameterCount
) -> dict[str, Any]:
    """Raw config, normalised architecture, exact counts and the stored weight format."""
    quantization = architecture.quantization
    return {
        "config": as_json(config),
        "architecture": as_json(architecture),
        "total_params": parameters.total,
        "active_params": parameters.active,
        "quantization": quantization.weight_dtype if quantization else None,
    }
