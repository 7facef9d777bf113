"""The OpenAPI document explains itself: every field described, every body with an example."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from service.api.engines import EnginesResponse
from service.api.examples import example
from service.api.health import Health, Readiness
from service.api.imports import ImportJob, ImportJobPage, ImportRequest
from service.contract.catalog import (
    GpuCreate,
    GpuOut,
    GpuPage,
    GpuReplace,
    ModelCreate,
    ModelOut,
    ModelPage,
    ModelReplace,
)
from service.contract.frontier import FrontierRequest, FrontierResponse
from service.contract.schemas import (
    InspectRequest,
    InspectResponse,
    LatencyRequest,
    LatencyResponse,
    MaxBatchRequest,
    MaxBatchResponse,
    PlanRequest,
    PlanResponse,
)
from tests.contract.test_openapi import app_schema, operations

#: Each example's request and response types: the examples must still be valid bodies.
EXAMPLE_TYPES: dict[str, tuple[Any, Any]] = {
    "health": (None, Health),
    "ready": (None, Readiness),
    "inspect": (InspectRequest, InspectResponse),
    "max_batch": (MaxBatchRequest, MaxBatchResponse),
    "latency": (LatencyRequest, LatencyResponse),
    "plan": (PlanRequest, PlanResponse),
    "frontier": (FrontierRequest, FrontierResponse),
    "engines": (None, EnginesResponse),
    "gpu_list": (None, GpuPage),
    "gpu_create": (GpuCreate, GpuOut),
    "gpu_get": (None, GpuOut),
    "gpu_replace": (GpuReplace, GpuOut),
    "model_list": (None, ModelPage),
    "model_create": (ModelCreate, ModelOut),
    "model_get": (None, ModelOut),
    "model_replace": (ModelReplace, ModelOut),
    "import_create": (ImportRequest, ImportJob),
    "import_get": (None, ImportJob),
    "import_list": (None, ImportJobPage),
}


def _undescribed(schema: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: missing
        for name, component in schema["components"]["schemas"].items()
        if (
            missing := [
                prop
                for prop, spec in component.get("properties", {}).items()
                if not spec.get("description")
            ]
        )
    }


def _has_example(content: dict[str, Any]) -> bool:
    return any(
        key in media or key in media.get("schema", {})
        for media in content.values()
        for key in ("example", "examples")
    )


def test_every_property_has_a_description(tmp_path: Path) -> None:
    """Each property of each schema says what it is and its unit."""
    assert _undescribed(app_schema(tmp_path)) == {}


def test_every_request_body_has_an_example(tmp_path: Path) -> None:
    """Each operation that takes a body documents an example of it."""
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(app_schema(tmp_path))
        if "requestBody" in operation and not _has_example(operation["requestBody"]["content"])
    ]
    assert missing == []


def test_every_response_body_has_an_example(tmp_path: Path) -> None:
    """Each documented response with a body, success or problem, carries an example."""
    missing = [
        f"{method} {path} {status}"
        for method, path, operation in operations(app_schema(tmp_path))
        for status, response in operation["responses"].items()
        if response.get("content") and not _has_example(response["content"])
    ]
    assert missing == []


@pytest.mark.parametrize("name", sorted(EXAMPLE_TYPES))
def test_each_example_is_a_valid_body(name: str) -> None:
    """An example's request and response still decode as the contract's types."""
    request_type, response_type = EXAMPLE_TYPES[name]
    document = example(name)
    if request_type is not None:
        msgspec.convert(document["request"], request_type, strict=False)
    msgspec.convert(document["response"], response_type, strict=False)


def test_plan_fields_say_which_arrangement_they_describe_and_what_ranks(tmp_path: Path) -> None:
    """serving is a required aggregated/disaggregated enum saying what ranks; the top-level
    GPUs, costs and SLO verdict say they are the aggregated arrangement's and name the pools'
    own; the pools carry their cost; the ranking's descriptions point at serving."""
    schemas = app_schema(tmp_path)["components"]["schemas"]
    planned = schemas["PlannedConfiguration"]
    pools = schemas["Disaggregated"]["properties"]
    serving = planned["properties"]["serving"]
    assert serving["enum"] == ["aggregated", "disaggregated"]
    assert "serving" in planned["required"]
    assert "beats_aggregated" in serving["description"]
    assert "ranking" in serving["description"]
    for field in ("gpu_count", "cost_per_hour", "cost_per_million_output_tokens", "meets_slo"):
        described = planned["properties"][field]["description"]
        assert "aggregated arrangement" in described, field
        assert f"disaggregated.{field}" in described, field
    for field in ("cost_per_hour", "cost_per_million_output_tokens", "output_tokens_per_s"):
        assert pools[field]["description"], field
    assert "serving" in pools["beats_aggregated"]["description"]
    assert "serving" in schemas["PlanResponse"]["properties"]["configurations"]["description"]
    assert "serving" in schemas["PlanRequest"]["properties"]["objective"]["description"]
