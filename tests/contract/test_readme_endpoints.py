"""The README's endpoint table lists exactly the app's routes."""

from __future__ import annotations

import re
from pathlib import Path

from tests.contract.conftest import REPO_ROOT, app_openapi

README = REPO_ROOT / "README.md"
METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH"}
ROW = re.compile(r"^\|\s*`(?P<method>[A-Z]+)`\s*\|\s*`(?P<path>/[^`]*)`\s*\|")


def documented_routes() -> set[str]:
    """``METHOD /path`` of each table row under the README's ``## Endpoints`` heading."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert "## Endpoints" in lines, "README.md has no '## Endpoints' section"
    section = lines[lines.index("## Endpoints") + 1 :]
    end = next((i for i, line in enumerate(section) if line.startswith("## ")), len(section))
    rows = [ROW.match(line.strip()) for line in section[:end]]
    return {f"{row['method']} {row['path']}" for row in rows if row}


def app_routes(tmp_path: Path) -> set[str]:
    """``METHOD /path`` of every operation in the app's OpenAPI, docs routes excluded."""
    schema = app_openapi()
    return {
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        if not path.startswith("/schema")
        for method in item
        if method.upper() in METHODS
    }


def test_every_route_of_the_app_is_documented(tmp_path: Path) -> None:
    """Each operation of the app has a row in the README's endpoint table."""
    assert app_routes(tmp_path) - documented_routes() == set()


def test_every_documented_route_exists(tmp_path: Path) -> None:
    """Each row of the README's endpoint table is an operation of the app."""
    documented = documented_routes()
    assert documented, "the README's '## Endpoints' table has no `METHOD` | `/path` rows"
    assert documented - app_routes(tmp_path) == set()


ENGINE_ROW = re.compile(r"^\|\s*`POST (?P<path>/v1/[a-z-]+)`[^|]*\|(?P<knobs>[^|]*)\|$")
REQUESTS = {
    "/v1/max-batch": "MaxBatchRequest",
    "/v1/latency": "LatencyRequest",
    "/v1/plan": "PlanRequest",
    "/v1/frontier": "FrontierRequest",
}


def engine_knob_names() -> set[str]:
    """Every engine setting a computing request may take: /v1/max-batch's body (which takes
    them all, at its top level) less the question's own fields."""
    properties = set(app_openapi()["components"]["schemas"]["MaxBatchRequest"]["properties"])
    return properties - {
        "model",
        "gpu",
        "context_length",
        "tensor_parallel",
        "pipeline_parallel",
        "weight_dtype",
        "kv_cache_dtype",
        "engine",
        "expert_parallel",
        "attention_data_parallel",
    }


def test_the_readme_engine_settings_table_matches_the_request_bodies() -> None:
    """Each row of the README's engine-settings table names exactly the settings (top level,
    or dotted where nested) the request body of that endpoint accepts."""
    schemas = app_openapi()["components"]["schemas"]
    knobs = engine_knob_names()
    rows = [ENGINE_ROW.match(line.strip()) for line in README.read_text("utf-8").splitlines()]
    documented = {
        row["path"]: set(re.findall(r"`([a-z_.]+)`", row["knobs"])) for row in rows if row
    }
    assert set(documented) == set(REQUESTS)
    for path, name in REQUESTS.items():
        accepted = knobs & set(schemas[name]["properties"])
        if path == "/v1/plan":
            accepted |= {
                f"constraints.{k}" for k in knobs & set(schemas["ConstraintsIn"]["properties"])
            }
        assert documented[path] == accepted, path
