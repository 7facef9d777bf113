"""The committed openapi.yaml is the app's schema, and the schema documents every error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.contract.conftest import REPO_ROOT, app_openapi

OPENAPI_YAML = REPO_ROOT / "openapi.yaml"
PROBLEM_REF = "#/components/schemas/ProblemDetails"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def app_schema(tmp_path: Path) -> dict[str, Any]:
    """The app's OpenAPI document as JSON data (a tuple default such as ``()`` becomes ``[]``,
    as in the served /schema/openapi.json and in YAML)."""
    return app_openapi()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_committed_openapi_yaml_matches_the_app(tmp_path: Path) -> None:
    """openapi.yaml is what the app serves; regenerate it with `make schema` when this fails."""
    committed = yaml.safe_load(OPENAPI_YAML.read_text(encoding="utf-8"))
    assert committed == app_schema(tmp_path), (
        "openapi.yaml is stale: run `capplan openapi --output openapi.yaml` (make schema)"
    )


def test_every_error_response_is_problem_json(tmp_path: Path) -> None:
    """Each documented 4xx/5xx of each operation is application/problem+json ProblemDetails."""
    wrong = [
        f"{method} {path} {status}"
        for method, path, operation in operations(app_schema(tmp_path))
        for status, response in operation["responses"].items()
        if int(status) >= 400
        and response.get("content", {}).get("application/problem+json", {}).get("schema")
        != {"$ref": PROBLEM_REF}
    ]
    assert wrong == []


def test_problem_details_requires_type_title_and_status(tmp_path: Path) -> None:
    """The documented problem always has RFC 9457's type, title and status."""
    problem = app_schema(tmp_path)["components"]["schemas"]["ProblemDetails"]
    assert {"type", "title", "status"} <= set(problem["required"])
    assert {"detail", "errors"} <= set(problem["properties"])


PLANNING = {"/v1/inspect", "/v1/max-batch", "/v1/latency", "/v1/plan", "/v1/frontier"}
Operation = tuple[str, str, dict[str, Any]]


def takes_input(method: str, path: str, operation: dict[str, Any]) -> bool:
    return bool(operation.get("parameters") or operation.get("requestBody"))


def looks_up_a_row(method: str, path: str, operation: dict[str, Any]) -> bool:
    return "{" in path or path in PLANNING


def is_guarded(method: str, path: str, operation: dict[str, Any]) -> bool:
    return bool(operation.get("security"))


def writes_a_catalog_row(method: str, path: str, operation: dict[str, Any]) -> bool:
    return path.startswith(("/v1/gpus", "/v1/models")) and method in {"POST", "PUT"}


def reads_a_config(method: str, path: str, operation: dict[str, Any]) -> bool:
    return path in PLANNING or (path.startswith("/v1/models") and method in {"POST", "PUT"})


@pytest.mark.parametrize(
    ("applies", "status"),
    [
        (takes_input, "400"),
        (looks_up_a_row, "404"),
        (is_guarded, "401"),
        (is_guarded, "403"),
        (writes_a_catalog_row, "409"),
        (reads_a_config, "422"),
    ],
    ids=["input-400", "lookup-404", "guarded-401", "guarded-403", "write-409", "config-422"],
)
def test_operations_document_the_errors_they_can_give(
    tmp_path: Path, applies: Any, status: str
) -> None:
    """Inputs document 400, lookups 404, guarded writes 401/403/409, configs 422."""
    missing = [
        f"{method} {path}"
        for method, path, operation in operations(app_schema(tmp_path))
        if applies(method, path, operation) and status not in operation["responses"]
    ]
    assert missing == []


def test_every_write_and_no_read_requires_the_admin_token(tmp_path: Path) -> None:
    """Every operation but reads (GET, HEAD) and the planning POSTs declares the adminToken
    bearer scheme."""
    schema = app_schema(tmp_path)
    assert schema["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    writes = {
        f"{method} {path}"
        for method, path, _ in operations(schema)
        if method not in {"GET", "HEAD"} and path not in PLANNING
    }
    secured = {f"{m} {p}" for m, p, op in operations(schema) if op.get("security")}
    assert {"POST /v1/gpus", "DELETE /v1/models/{model_id}"} <= writes
    assert secured == writes
    assert all(
        op["security"] == [{"adminToken": []}]
        for *_, op in operations(schema)
        if op.get("security")
    )
