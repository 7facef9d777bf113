"""A repeated /v1/plan is answered from the caches, exactly as it would be computed, and a
catalog write shows in the next answer (at once in this process, after the TTL elsewhere)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import event, update

from service.api.answer_cache import AnswerCache
from service.api.catalog_cache import CatalogCache
from service.app import create_app
from service.db.models import GpuRow
from service.db.session import create_engine
from tests.api.conftest import ADMIN, CATALOG_DIR, assert_problem, gpu_body, settings_for
from tests.databases import DbTemplate
from tests.db.conftest import TINY_LLAMA_CONFIG

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]
LLAMA_8B = "meta-llama/Llama-3.1-8B"
WORKLOAD = {"input_tokens": 2000, "output_tokens": 500, "concurrency": 16}
NEW_MODEL = "acme/cache-llama"
#: A tiny Llama with Llama-3's vocabulary, so that it may also draft for Llama-3.1-8B.
TINY_CONFIG = {**TINY_LLAMA_CONFIG, "vocab_size": 128_256}
TTL_S = 5.0

QUESTIONS: dict[str, dict[str, Any]] = {
    "whole-catalog": {"model": LLAMA_8B, "workload": WORKLOAD, "objective": "cost"},
    "named-gpus-priced": {
        "model": LLAMA_8B,
        "workload": WORKLOAD,
        "constraints": {"gpus": ["l4", "h100-sxm"], "weight_dtypes": ["bf16", "fp8"]},
        "prices": {"l4": 0.4},
        "objective": "latency",
    },
    "inline-config": {"model": {"hf_config": TINY_CONFIG}, "workload": WORKLOAD},
}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
def db_template() -> DbTemplate:
    """Every test here starts from the seeded catalog."""
    return CATALOG_DIR


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(db_url: str, clock: Clock) -> AsyncIterator[Client]:
    """The app with writes allowed and catalog copies valid TTL_S seconds of ``clock``."""
    app = create_app(settings_for(db_url, sync_catalog_on_start=False))
    app.state["catalog_cache"] = CatalogCache(TTL_S, clock=clock)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def plan(client: Client, question: dict[str, Any]) -> httpx.Response:
    response = await client.post("/v1/plan", json=question)
    assert response.status_code == 200, response.text
    return response


async def computed_afresh(client: Client, question: dict[str, Any], clock: Clock) -> bytes:
    """The answer with every cache emptied: read from the database and searched anew."""
    client.app.state["answer_cache"] = AnswerCache()
    client.app.state["catalog_cache"] = CatalogCache(TTL_S, clock=clock)
    return (await plan(client, question)).content


def answer_cache(client: Client) -> AnswerCache:
    cache: AnswerCache = client.app.state["answer_cache"]
    return cache


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=QUESTIONS.keys())
async def test_cached_answer_equals_a_fresh_computation(
    client: Client, clock: Clock, question: dict[str, Any]
) -> None:
    """The second ask is a cache hit with the very bytes (and headers) a fresh search gives."""
    first = await plan(client, question)
    second = await plan(client, question)
    assert answer_cache(client).hits == 1
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert await computed_afresh(client, question, clock) == first.content


async def test_cache_hit_reads_nothing_from_the_database(client: Client) -> None:
    """A repeated question within the TTL runs no SQL statement at all."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    question = QUESTIONS["whole-catalog"]
    await plan(client, question)
    sync_engine = client.app.state.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        await plan(client, question)
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    assert statements == []
    assert answer_cache(client).hits == 1


async def test_same_question_in_another_key_order_is_a_hit(client: Client) -> None:
    """The key is the question's canonical form, not its bytes as sent."""
    question = QUESTIONS["named-gpus-priced"]
    await plan(client, question)
    await plan(client, dict(reversed(question.items())))
    assert answer_cache(client).hits == 1


async def _replace_gpu_price(client: Client) -> None:
    body = {k: v for k, v in gpu_body("cache-gpu", price_per_hour_usd=9.0).items() if k != "id"}
    response = await client.put("/v1/gpus/cache-gpu", json={**body, "version": 1}, headers=ADMIN)
    assert response.status_code == 200, response.text


async def _create_gpu(client: Client) -> None:
    response = await client.post(
        "/v1/gpus", json=gpu_body("cheap-gpu", price_per_hour_usd=0.01), headers=ADMIN
    )
    assert response.status_code == 201, response.text


async def _delete_gpu(client: Client) -> None:
    assert (await client.delete("/v1/gpus/l4", headers=ADMIN)).status_code == 204


async def _replace_model_config(client: Client) -> None:
    config = {**TINY_CONFIG, "num_hidden_layers": 4}
    response = await client.put(
        f"/v1/models/{NEW_MODEL}", json={"config": config, "version": 1}, headers=ADMIN
    )
    assert response.status_code == 200, response.text


Write = Callable[[Client], Awaitable[None]]
WRITES: dict[str, tuple[Write, dict[str, Any]]] = {
    "put-gpu": (
        _replace_gpu_price,
        {"model": LLAMA_8B, "workload": WORKLOAD, "constraints": {"gpus": ["cache-gpu", "l4"]}},
    ),
    "post-gpu": (_create_gpu, QUESTIONS["whole-catalog"]),
    "delete-gpu": (_delete_gpu, QUESTIONS["whole-catalog"]),
    "put-model": (_replace_model_config, {"model": NEW_MODEL, "workload": WORKLOAD}),
    "put-draft-model": (
        _replace_model_config,
        {
            "model": LLAMA_8B,
            "workload": {
                **WORKLOAD,
                "speculative": {
                    "method": "draft_model",
                    "draft_model": NEW_MODEL,
                    "draft_tokens": 4,
                    "acceptance_rate": 0.7,
                },
            },
            "constraints": {"gpus": ["l4"]},
        },
    ),
}


@pytest.mark.parametrize(("write", "question"), WRITES.values(), ids=WRITES.keys())
async def test_catalog_write_shows_in_the_next_answer(
    client: Client, clock: Clock, write: Write, question: dict[str, Any]
) -> None:
    """After a write through the API (well within the TTL) the next answer is a fresh one."""
    await client.post("/v1/gpus", json=gpu_body("cache-gpu"), headers=ADMIN)
    model = {"id": NEW_MODEL, "config": TINY_CONFIG}
    assert (await client.post("/v1/models", json=model, headers=ADMIN)).status_code == 201
    before = (await plan(client, question)).content
    await write(client)
    after = (await plan(client, question)).content
    assert after != before
    assert after == await computed_afresh(client, question, clock)


async def test_deleted_model_is_404_in_the_next_plan(client: Client) -> None:
    """DELETE /v1/models/{id} right after a plan of it: the same question is a 404."""
    model = {"id": NEW_MODEL, "config": TINY_CONFIG}
    assert (await client.post("/v1/models", json=model, headers=ADMIN)).status_code == 201
    question = {"model": NEW_MODEL, "workload": WORKLOAD}
    await plan(client, question)
    assert (await client.delete(f"/v1/models/{NEW_MODEL}", headers=ADMIN)).status_code == 204
    assert_problem(await client.post("/v1/plan", json=question), 404)


async def test_another_replicas_write_shows_after_the_ttl(
    client: Client, clock: Clock, db_url: str
) -> None:
    """A write this process did not make (SQL through an engine of its own, as another replica
    would) is answered from the old copy until TTL_S, and afresh after it."""
    question = {"model": LLAMA_8B, "workload": WORKLOAD, "constraints": {"gpus": ["l4"]}}
    before = (await plan(client, question)).content
    replica = create_engine(db_url)
    try:
        async with replica.begin() as connection:
            raised = {"price_per_hour_usd": 50.0, "version": GpuRow.version + 1}
            await connection.execute(update(GpuRow).where(GpuRow.id == "l4").values(**raised))
    finally:
        await replica.dispose()
    clock.now_s += TTL_S / 2
    assert (await plan(client, question)).content == before
    clock.now_s += TTL_S
    after = (await plan(client, question)).content
    assert after != before
    assert after == await computed_afresh(client, question, clock)
