"""The plan answer stays small: a limit, nothing dominated, no duplicates, rejections counted.

An ordinary whole-catalog question used to answer ~100 configurations and ~40 rejections
(86-95 KB); encoding them cost more than the search.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from tests.api.conftest import ADMIN, settings_for

Client = TestClient[Litestar]
WORKLOAD = {"input_tokens": 2000, "output_tokens": 500, "concurrency": 16}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    database = Path(tmp_path_factory.mktemp("lean")) / "capplan.db"
    with TestClient(app=create_app(settings_for(f"sqlite+aiosqlite:///{database}"))) as test_client:
        yield test_client


def plan(client: Client, **fields: Any) -> dict[str, Any]:
    body = {"model": "meta-llama/Llama-3.1-8B", "workload": WORKLOAD, **fields}
    response = client.post("/v1/plan", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize(
    ("fields", "most"), [({}, 10), ({"limit": 3}, 3), ({"limit": 1}, 1)], ids=["default", "3", "1"]
)
def test_at_most_limit_configurations(client: Client, fields: dict[str, Any], most: int) -> None:
    """The answer lists at most ``limit`` configurations (default 10), and says how many fit."""
    answer = plan(client, **fields)

    assert 1 <= len(answer["configurations"]) <= most
    assert answer["considered"] >= len(answer["configurations"])


def test_no_configuration_is_dominated_by_one_with_fewer_gpus(client: Client) -> None:
    """No listed configuration uses more GPUs than another for nothing better."""
    configurations = plan(client, limit=1000)["configurations"]

    def no_worse(a: dict[str, Any], b: dict[str, Any]) -> bool:
        cost = (a["cost_per_hour"] is None) == (b["cost_per_hour"] is None) and (
            a["cost_per_hour"] is None or a["cost_per_hour"] <= b["cost_per_hour"]
        )
        return (
            cost
            and a["ttft_ms"] <= b["ttft_ms"]
            and a["tpot_ms"] <= b["tpot_ms"]
            and a["output_tokens_per_s"] >= b["output_tokens_per_s"]
            and (a["meets_slo"] or not b["meets_slo"])
        )

    dominated = [
        (a["gpu"], a["gpu_count"], b["gpu"], b["gpu_count"])
        for a in configurations
        for b in configurations
        if a["gpu_count"] < b["gpu_count"] and no_worse(a, b)
    ]
    assert dominated == []
    assert len(configurations) > 1


def test_auto_resolving_to_a_listed_dtype_is_not_repeated(client: Client) -> None:
    """With weight dtypes auto and bf16 (auto may resolve to bf16), no deployment repeats."""
    configurations = plan(
        client, limit=1000, constraints={"weight_dtypes": ["auto", "bf16"], "max_gpus": 8}
    )["configurations"]
    keys = [
        (
            c["gpu"],
            c["tensor_parallel"],
            c["pipeline_parallel"],
            c["replicas"],
            c["weight_dtype"],
            c["kv_cache_dtype"],
        )
        for c in configurations
    ]

    assert len(keys) == len(set(keys))


def test_rejections_are_counted_by_reason_and_listed_only_on_request(client: Client) -> None:
    """By default rejections come as counts per reason; ``include_rejected=all`` lists each."""
    constraints = {"weight_dtypes": ["bf16"], "max_gpus": 2}
    summary = plan(client, constraints=constraints)
    everything = plan(client, constraints=constraints, include_rejected="all")

    assert everything["rejected"]
    assert summary["rejected"] == []
    assert summary["rejections"] == everything["rejections"]
    assert sum(group["count"] for group in summary["rejections"]) == len(everything["rejected"])
    assert {group["example"] for group in summary["rejections"]} <= {
        r["reason"] for r in everything["rejected"]
    }


def test_ordinary_answer_is_small(client: Client) -> None:
    """An ordinary whole-catalog question answers in under 16 KB (it was 86-95 KB)."""
    response = client.post(
        "/v1/plan", json={"model": "meta-llama/Llama-3.1-8B", "workload": WORKLOAD}
    )

    assert response.status_code == 200
    assert len(response.content) < 16_384


def test_a_changed_gpu_is_not_answered_from_the_cache(client: Client) -> None:
    """Asked twice, the same question gets the same answer; after a GPU's price changes, the
    answer prices it anew (answers are cached by everything they are computed from)."""
    constraints = {"gpus": ["h100-sxm"], "max_gpus": 1, "weight_dtypes": ["bf16"]}
    first = plan(client, constraints=constraints)
    again = plan(client, constraints=constraints)
    gpu = client.get("/v1/gpus/h100-sxm").json()
    fields = {k: v for k, v in gpu.items() if k not in ("id", "origin", "created_at", "updated_at")}
    doubled = 2 * first["configurations"][0]["cost_per_hour"]
    replaced = client.put(
        "/v1/gpus/h100-sxm", json={**fields, "price_per_hour_usd": doubled}, headers=ADMIN
    )
    after = plan(client, constraints=constraints)

    assert again == first
    assert replaced.status_code == 200, replaced.text
    assert after["configurations"][0]["cost_per_hour"] == pytest.approx(doubled)
