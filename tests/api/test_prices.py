"""Prices a deployment pays: the question's ``prices`` and ``CAPPLAN_PRICES_FILE`` over the
catalog's list prices."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from tests.api.conftest import assert_problem, settings_for

pytestmark = pytest.mark.anyio

PLAN: dict[str, Any] = {
    "model": "meta-llama/Llama-3.1-8B",
    "workload": {"input_tokens": 1000, "output_tokens": 200, "concurrency": 4},
    "constraints": {"gpus": ["h100-sxm", "l4"], "max_gpus": 2},
}


def hourly_rates(body: dict[str, Any]) -> dict[str, set[float]]:
    """USD per GPU-hour each configuration implies, by GPU."""
    rates: dict[str, set[float]] = {}
    for setup in body["configurations"]:
        rates.setdefault(setup["gpu"], set()).add(
            round(setup["cost_per_hour"] / setup["gpu_count"], 6)
        )
    return rates


async def test_question_prices_cost_every_setup(client: AsyncTestClient[Litestar]) -> None:
    """Every H100 setup costs the asked price per GPU-hour; other GPUs keep theirs."""
    listed = hourly_rates((await client.post("/v1/plan", json=PLAN)).json())
    body = (await client.post("/v1/plan", json={**PLAN, "prices": {"h100-sxm": 1.25}})).json()
    rates = hourly_rates(body)
    assert rates["h100-sxm"] == {1.25}
    assert rates.get("l4") == listed.get("l4")


async def test_a_price_of_zero_is_free_not_unknown(client: AsyncTestClient[Litestar]) -> None:
    """Owned hardware at 0 USD/h costs 0 and ranks first by cost, not last as unpriced."""
    body = (await client.post("/v1/plan", json={**PLAN, "prices": {"h100-sxm": 0}})).json()
    first = body["configurations"][0]
    assert (first["gpu"], first["cost_per_hour"]) == ("h100-sxm", 0)
    assert hourly_rates(body)["h100-sxm"] == {0}


async def test_price_for_an_unknown_gpu_is_404(client: AsyncTestClient[Litestar]) -> None:
    """A typo in ``prices`` is never silently ignored."""
    response = await client.post("/v1/plan", json={**PLAN, "prices": {"h100-sx": 1.0}})
    assert assert_problem(response, 404)["suggestions"] == ["h100-sxm"]


async def test_price_for_an_unknown_gpu_names_its_key(client: AsyncTestClient[Litestar]) -> None:
    """The 404's errors name the price's key: ``prices.<id>``."""
    response = await client.post("/v1/plan", json={**PLAN, "prices": {"nonexistent": 1.0}})
    problem = assert_problem(response, 404)
    assert [(e["key"], e["source"]) for e in problem["errors"]] == [("prices.nonexistent", "body")]


@pytest.mark.parametrize("price", [-1, "cheap"], ids=["negative", "not-a-number"])
async def test_a_bad_price_names_its_gpu(client: AsyncTestClient[Litestar], price: Any) -> None:
    """A refused price is keyed by the GPU it prices (``prices.h100-sxm``), not ``prices[...]``."""
    prices = {"l4": 0.5, "h100-sxm": price}
    response = await client.post("/v1/plan", json={**PLAN, "prices": prices})
    assert [e["key"] for e in assert_problem(response, 400)["errors"]] == ["prices.h100-sxm"]


async def test_a_price_key_in_other_letter_case_prices_that_gpu(
    client: AsyncTestClient[Litestar],
) -> None:
    """``H100-SXM`` prices the catalog's h100-sxm (not silently dropped as another id)."""
    body = (await client.post("/v1/plan", json={**PLAN, "prices": {"H100-SXM": 1.25}})).json()
    assert hourly_rates(body)["h100-sxm"] == {1.25}


async def test_two_prices_for_one_gpu_are_a_400(client: AsyncTestClient[Litestar]) -> None:
    """Two keys naming one GPU (in two letter cases) are refused, naming the second."""
    prices = {"h100-sxm": 1.0, "H100-SXM": 2.0}
    response = await client.post("/v1/plan", json={**PLAN, "prices": prices})
    assert [e["key"] for e in assert_problem(response, 400)["errors"]] == ["prices.H100-SXM"]


@pytest.fixture
async def priced_client(db_url: str, tmp_path: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with a prices file that sets the L4 at 0.42 USD/h."""
    prices = tmp_path / "prices.yaml"
    prices.write_text("prices:\n  l4: 0.42\n", encoding="utf-8")
    settings = settings_for(db_url, prices_file=prices)  # migrates and seeds at start-up
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


async def test_prices_file_overrides_the_list_price(
    priced_client: AsyncTestClient[Litestar],
) -> None:
    """CAPPLAN_PRICES_FILE prices the L4; the question's prices still win over it."""
    body = (await priced_client.post("/v1/plan", json=PLAN)).json()
    assert hourly_rates(body)["l4"] == {0.42}
    asked = {**PLAN, "prices": {"l4": 0.3}}
    assert hourly_rates((await priced_client.post("/v1/plan", json=asked)).json())["l4"] == {0.3}
