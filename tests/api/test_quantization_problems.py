"""A checkpoint quantised with a method capplan does not model is a 422 naming the method."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem
from tests.domain.reference import LLAMA_LIKE

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("quantization_config", "method"),
    [
        ({"quant_method": "hqq", "nbits": 4}, "hqq"),
        ({"quant_method": "gptq", "bits": 3, "group_size": 128}, "gptq"),
        ({"quant_method": "aqlm", "in_group_size": 8}, "aqlm"),
    ],
    ids=["hqq", "three-bit-gptq", "aqlm"],
)
async def test_unmodelled_quantization_is_422_naming_the_method(
    client: AsyncTestClient[Litestar], quantization_config: dict[str, Any], method: str
) -> None:
    """Never a silent 16-bit guess: the problem names quant_method and its value."""
    config = {**LLAMA_LIKE, "model_type": "llama", "quantization_config": quantization_config}
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})

    problem = assert_problem(response, 422)
    assert f"quant_method={method}" in problem["detail"]
