"""Requests `make fuzz` (bench/fuzz.py) answered with a 500, now answered as they should be."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, error_keys

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]


async def test_latency_of_prompt_bound_requests_is_an_answer(client: Client) -> None:
    """8.7 M-token prompts with 1-token answers at batch 148: a finite TTFT, not a 500."""
    body = {
        "model": "meta-llama/Llama-3.1-70B",
        "gpu": "b200",
        "batch_size": 148,
        "input_tokens": 8_724_514,
        "output_tokens": 1,
        "max_num_batched_tokens": 8_724_514,
    }

    response = await client.post("/v1/latency", json=body)

    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize("field", ["requests_per_s", "arrival_rate_per_s"])
async def test_denormal_request_rate_is_400_naming_it(client: Client, field: str) -> None:
    """A rate of 5e-324 requests/s is refused by name, not divided into 0 per replica."""
    workload = {"input_tokens": 284, "output_tokens": 106, field: 5e-324}

    response = await client.post(
        "/v1/plan", json={"model": "meta-llama/Llama-3.1-8B", "workload": workload}
    )

    assert f"workload.{field}" in error_keys(assert_problem(response, 400))
