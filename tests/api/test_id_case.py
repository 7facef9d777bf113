"""Hugging Face ids are case-insensitive: in a question, an id that differs from exactly one
catalog id only in letter case names that entry, and the answer spells it as the catalog does.
A catalog read (GET /v1/models/{id}) takes the id as stored: see test_name_suggestions.py."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import ADMIN, assert_problem, reference_model

pytestmark = pytest.mark.anyio

LLAMA_8B = "meta-llama/Llama-3.1-8B"
RUN: dict[str, Any] = {"input_tokens": 128, "output_tokens": 128}
WORKLOAD: dict[str, Any] = {"input_tokens": 128, "output_tokens": 128}


LLAMA_LOWER = "meta-llama/llama-3.1-8b"
# (path, the body in catalog spelling, the same body with ids in other letter case)
QUESTIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("/v1/inspect", {"model": LLAMA_8B}, {"model": LLAMA_LOWER}),
    (
        "/v1/max-batch",
        {"model": LLAMA_8B, "gpu": "h100-sxm", "context_length": 1024},
        {"model": "META-LLAMA/LLAMA-3.1-8B", "gpu": "H100-SXM", "context_length": 1024},
    ),
    (
        "/v1/latency",
        {"model": LLAMA_8B, "gpu": "h100-sxm", "batch_size": 1, **RUN},
        {"model": LLAMA_LOWER, "gpu": "H100-sxm", "batch_size": 1, **RUN},
    ),
    (
        "/v1/frontier",
        {"model": LLAMA_8B, "gpu": "l4", **RUN},
        {"model": "Meta-Llama/Llama-3.1-8b", "gpu": "L4", **RUN},
    ),
    (
        "/v1/plan",
        {"model": LLAMA_8B, "workload": WORKLOAD, "constraints": {"gpus": ["h100-sxm"]}},
        {"model": LLAMA_LOWER, "workload": WORKLOAD, "constraints": {"gpus": ["H100-SXM"]}},
    ),
    (
        "/v1/plan",
        {"model": LLAMA_8B, "workload": WORKLOAD, "constraints": {"gpus": ["h100-sxm"]}},
        {
            "model": LLAMA_8B,
            "workload": WORKLOAD,
            "constraints": {"gpus": ["H100-SXM", "h100-sxm"]},
        },
    ),
]


@pytest.mark.parametrize(
    ("path", "catalog_spelling", "other_case"),
    QUESTIONS,
    ids=["inspect", "max-batch", "latency", "frontier", "plan", "plan-one-gpu-twice"],
)
async def test_a_question_names_catalog_ids_in_any_letter_case(
    client: AsyncTestClient[Litestar],
    path: str,
    catalog_spelling: dict[str, Any],
    other_case: dict[str, Any],
) -> None:
    """The answer is the catalog spelling's, to the letter (``model`` and GPU ids as the
    catalog spells them; a GPU named in two spellings searched once)."""
    expected = await client.post(path, json=catalog_spelling)
    response = await client.post(path, json=other_case)
    assert response.status_code == 200, response.text
    assert response.json() == expected.json()


async def test_two_ids_differing_in_case_alone_are_not_guessed_between(
    client: AsyncTestClient[Litestar],
) -> None:
    """When two catalog ids spell the name in other cases, neither is chosen: a 404 that
    suggests them."""
    config = reference_model("meta-llama/Llama-3.2-1B")["config"]
    for model_id in ("acme/Tiny-1B", "acme/tiny-1b"):
        created = await client.post(
            "/v1/models", json={"id": model_id, "config": config}, headers=ADMIN
        )
        assert created.status_code == 201, created.text
    response = await client.post("/v1/inspect", json={"model": "ACME/TINY-1B"})
    assert set(assert_problem(response, 404)["suggestions"]) == {"acme/Tiny-1B", "acme/tiny-1b"}
