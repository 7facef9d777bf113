"""POST /v1/frontier and GET /v1/frontier.svg: the curve from one user to saturation."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, catalog_gpu, error_keys, reference_model

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
SVG = "{http://www.w3.org/2000/svg}"


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "model": LLAMA_8B,
        "gpu": "h100-sxm",
        "input_tokens": 2000,
        "output_tokens": 500,
        **overrides,
    }


async def test_the_curve_runs_from_one_user_to_saturation(
    client: AsyncTestClient[Litestar],
) -> None:
    """Concurrency starts at 1 and ends at the saturation point, whose throughput is the
    maximum; throughput per user falls and per GPU rises along the way."""
    response = await client.post("/v1/frontier", json=body())
    assert response.status_code == 200, response.text
    answer = response.json()
    points = answer["points"]
    users = [p["concurrency"] for p in points]
    assert users[0] == 1
    assert users[-1] == answer["saturation_concurrency"]
    assert users == sorted(set(users))
    assert answer["max_output_tokens_per_s"] == pytest.approx(
        max(p["output_tokens_per_s"] for p in points)
    )
    per_user = [p["output_tokens_per_s_per_user"] for p in points]
    per_gpu = [p["output_tokens_per_s_per_gpu"] for p in points]
    assert per_user == sorted(per_user, reverse=True)
    assert per_gpu == sorted(per_gpu)


async def test_no_point_is_faster_than_reading_the_weights(
    client: AsyncTestClient[Litestar],
) -> None:
    """Every TPOT >= the 16.06 GB of bf16 weights / HBM bandwidth (4.79 ms on an H100)."""
    response = await client.post("/v1/frontier", json=body())
    weights = 2 * reference_model(LLAMA_8B)["total_params"]
    floor_ms = weights / catalog_gpu("h100-sxm")["memory_bandwidth_bytes_per_s"] * 1e3
    assert all(p["tpot_ms"] >= floor_ms for p in response.json()["points"])


async def test_the_slo_picks_the_busiest_point_that_meets_it(
    client: AsyncTestClient[Litestar],
) -> None:
    """With a TPOT target, points are judged and the best is the highest throughput meeting it."""
    response = await client.post("/v1/frontier", json=body(slo_tpot_ms=20))
    answer = response.json()
    meeting = [p for p in answer["points"] if p["meets_slo"]]
    assert meeting
    assert all(p["tpot_ms"] <= 20 for p in meeting)
    assert answer["best_meeting_slo"]["output_tokens_per_s"] == max(
        p["output_tokens_per_s"] for p in meeting
    )


async def test_a_deployment_that_cannot_hold_the_weights_is_an_answer(
    client: AsyncTestClient[Litestar],
) -> None:
    """70B in bf16 on one L4: 200, fits false, no points, the reason given."""
    response = await client.post(
        "/v1/frontier", json=body(model="meta-llama/Llama-3.1-70B", gpu="l4", weight_dtype="bf16")
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["fits"] is False
    assert answer["points"] == []
    assert answer["reasons"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"input_tokens": 0}, "input_tokens"),
        ({"slo_tpot_ms": -1}, "slo_tpot_ms"),
        ({"weight_dtype": "fp2"}, "weight_dtype"),
    ],
    ids=["no-prompt", "negative-slo", "unknown-dtype"],
)
async def test_bad_bodies_are_400s_naming_the_field(
    client: AsyncTestClient[Litestar], overrides: dict[str, Any], field: str
) -> None:
    """Out-of-range or unknown values: problem+json 400 naming the field."""
    response = await client.post("/v1/frontier", json=body(**overrides))
    assert field in error_keys(assert_problem(response, 400))


async def test_the_svg_is_a_chart_with_slo_lines(client: AsyncTestClient[Litestar]) -> None:
    """GET /v1/frontier.svg: well-formed SVG, a marker per point and per series, SLO lines."""
    params = {**body(), "slo_ttft_ms": 500, "slo_tpot_ms": 20}
    response = await client.get("/v1/frontier.svg", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)  # noqa: S314 - our own generated SVG
    points = (await client.post("/v1/frontier", json=params)).json()["points"]
    assert len(root.findall(f".//{SVG}circle")) == 3 * len(points)
    labels = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "TTFT SLO 500 ms" in labels
    assert "TPOT SLO 20 ms" in labels


async def test_a_bad_svg_query_is_a_400_naming_the_parameter(
    client: AsyncTestClient[Litestar],
) -> None:
    """An out-of-range query value: problem+json 400 naming it."""
    response = await client.get("/v1/frontier.svg", params={**body(), "output_tokens": 0})
    assert "output_tokens" in error_keys(assert_problem(response, 400))


@pytest.mark.parametrize("flag", ["expert_parallel", "attention_data_parallel"])
async def test_parallelism_flags_are_priced(client: AsyncTestClient[Litestar], flag: str) -> None:
    """Qwen3-30B-A3B on 4 H100s: each flag moves the single-user TPOT (all-to-alls; whole
    attention weights without the attention all-reduce)."""
    moe = body(model="Qwen/Qwen3-30B-A3B", tensor_parallel=4)
    plain = (await client.post("/v1/frontier", json=moe)).json()
    flagged = (await client.post("/v1/frontier", json={**moe, flag: True})).json()
    assert flagged["points"][0]["concurrency"] == 1
    assert flagged["points"][0]["tpot_ms"] != plain["points"][0]["tpot_ms"]


async def test_an_svg_modifier_changes_the_chart_as_it_changes_the_post_answer(
    client: AsyncTestClient[Litestar],
) -> None:
    """prefix_cache_hit_rate in the query moves the drawn TTFTs to those of the POST answer."""
    plain = await client.get("/v1/frontier.svg", params=body())
    cached = await client.get("/v1/frontier.svg", params=body(prefix_cache_hit_rate=0.9))
    assert cached.status_code == 200, cached.text
    assert cached.text != plain.text
    points = (await client.post("/v1/frontier", json=body(prefix_cache_hit_rate=0.9))).json()
    first_ttft = f"1 users: TTFT {points['points'][0]['ttft_ms']:,.1f} ms"
    assert first_ttft in cached.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"bogus": "1"}, "bogus"),
        ({"speculative": "ngram"}, "speculative"),
        ({"prefix_cache_hit_rate": "5"}, "prefix_cache_hit_rate"),
        ({"mm_items_per_prompt": "-1"}, "mm_items_per_prompt"),
        ({"expert_parallel": "maybe"}, "expert_parallel"),
    ],
    ids=["unknown", "object-field", "hit-rate-out-of-range", "negative-mm-items", "not-a-bool"],
)
async def test_an_unknown_or_bad_svg_parameter_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], params: dict[str, str], field: str
) -> None:
    """A parameter the POST body lacks (or cannot take as a scalar), or a value out of its
    range: problem+json 400 naming it."""
    response = await client.get("/v1/frontier.svg", params={**body(), **params})
    assert field in error_keys(assert_problem(response, 400))


async def test_the_svg_documents_every_scalar_field_of_the_post_body(
    client: AsyncTestClient[Litestar],
) -> None:
    """The OpenAPI query parameters of GET /v1/frontier.svg are the POST body's scalar fields."""
    schema = (await client.get("/schema/openapi.json")).json()
    documented = {p["name"] for p in schema["paths"]["/v1/frontier.svg"]["get"]["parameters"]}
    post = schema["components"]["schemas"]["FrontierRequest"]["properties"]
    assert documented == set(post) - {"speculative"}


@pytest.mark.parametrize("missing", ["model", "gpu", "input_tokens", "output_tokens"])
async def test_a_missing_svg_parameter_is_a_400_naming_it(
    client: AsyncTestClient[Litestar], missing: str
) -> None:
    """A required query parameter left out: problem+json 400 whose errors name it."""
    params = {key: value for key, value in body().items() if key != missing}
    response = await client.get("/v1/frontier.svg", params=params)
    assert error_keys(assert_problem(response, 400)) == {missing}
