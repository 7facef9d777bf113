"""A checkpoint quantised with a method capplan does not model is a 422 naming the method; a
malformed quantization field is a 400 naming it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.conftest import assert_problem, error_keys
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


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"torch_dtype": "int3"}, "torch_dtype"),
        ({"torch_dtype": "float8"}, "torch_dtype"),
        ({"quantization_config": "fp8"}, "quantization_config"),
        ({"compression_config": ["int4"]}, "compression_config"),
    ],
    ids=["unknown-dtype", "dtype-without-format", "quantization-as-text", "compression-as-list"],
)
async def test_unreadable_dtype_or_quantization_block_is_400_naming_it(
    client: AsyncTestClient[Litestar], changes: dict[str, Any], field: str
) -> None:
    """An unknown torch_dtype or a quantization block that is not an object: 400, no bf16 guess."""
    config = {**LLAMA_LIKE, "model_type": "llama", **changes}
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})

    problem = assert_problem(response, 400)
    assert field in problem["detail"]


@pytest.mark.parametrize(
    "block",
    [[128], "x", [128, "a"], [0, 128], {}, [128, 128, 128]],
    ids=["one-number", "text", "text-entry", "zero", "object", "three-numbers"],
)
async def test_malformed_fp8_weight_block_size_is_400_naming_it(
    client: AsyncTestClient[Litestar], block: Any
) -> None:
    """weight_block_size that is not [rows, cols] of positive integers is bad input, not 422."""
    quant = {"quant_method": "fp8", "activation_scheme": "dynamic", "weight_block_size": block}
    config = {**LLAMA_LIKE, "model_type": "llama", "quantization_config": quant}
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})

    problem = assert_problem(response, 400)
    assert error_keys(problem) == {"model.hf_config.quantization_config.weight_block_size"}


@pytest.mark.parametrize(
    "block", [[128], 128, [128, 128, 128]], ids=["one-number", "bare-number", "three-numbers"]
)
async def test_malformed_compressed_tensors_block_structure_is_400_naming_it(
    client: AsyncTestClient[Litestar], block: Any
) -> None:
    """A block_structure of another shape is a 400 naming it (it was a 500)."""
    weights = {"num_bits": 8, "type": "float", "strategy": "block", "block_structure": block}
    quant = {"quant_method": "compressed-tensors", "config_groups": {"g": {"weights": weights}}}
    config = {**LLAMA_LIKE, "model_type": "llama", "quantization_config": quant}
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})

    problem = assert_problem(response, 400)
    field = "model.hf_config.quantization_config.config_groups.g.weights.block_structure"
    assert error_keys(problem) == {field}


@pytest.mark.parametrize(
    ("dtype", "stored"),
    [("float16", "fp16"), ("torch.bfloat16", "bf16"), ("half", "fp16"), ("float32", "fp32")],
    ids=["float16", "torch-prefix", "half", "float32"],
)
async def test_torch_dtype_spellings_are_read(
    client: AsyncTestClient[Litestar], dtype: str, stored: str
) -> None:
    """torch_dtype's spellings, with or without "torch.", name the checkpoint's precision."""
    config = {**LLAMA_LIKE, "model_type": "llama", "torch_dtype": dtype}
    response = await client.post("/v1/inspect", json={"model": {"hf_config": config}})

    assert response.status_code == 200, response.text
    assert response.json()["architecture"]["checkpoint_dtype"] == stored
