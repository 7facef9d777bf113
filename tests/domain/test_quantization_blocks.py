"""FP8 scale blocks: ``weight_block_size`` and compressed-tensors ``block_structure`` are
``[rows, cols]`` of positive integers; any other shape is a malformed config (an API 400
naming the field), never an unmodelled scheme (422) nor a crash (500)."""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.architecture import InvalidConfig
from service.domain.quantization import scheme_from_config

# Not [rows, cols] of positive integers (vLLM's Fp8Config refuses any length but 2).
MALFORMED = [
    pytest.param([128], id="one-number"),
    pytest.param("x", id="text"),
    pytest.param([128, "a"], id="text-entry"),
    pytest.param([0, 128], id="zero"),
    pytest.param([-128, 128], id="negative"),
    pytest.param([128.0, 128], id="float-entry"),
    pytest.param([True, 128], id="bool-entry"),
    pytest.param([128, 128, 128], id="three-numbers"),
    pytest.param(128, id="bare-number"),
]
# Empty: a weight_block_size that is not [rows, cols]; a block_structure left at its default.
EMPTY = [pytest.param({}, id="object"), pytest.param([], id="empty-list")]


def fp8(block: Any) -> dict[str, Any]:
    return {"quant_method": "fp8", "activation_scheme": "dynamic", "weight_block_size": block}


def compressed_tensors_fp8_block(block: Any) -> dict[str, Any]:
    weights = {"num_bits": 8, "type": "float", "strategy": "block", "block_structure": block}
    return {
        "quant_method": "compressed-tensors",
        "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights}},
    }


@pytest.mark.parametrize("block", MALFORMED + EMPTY)
def test_malformed_weight_block_size_is_invalid_naming_it(block: Any) -> None:
    """fp8 weight_block_size that is not [rows, cols] of positive integers is InvalidConfig."""
    with pytest.raises(InvalidConfig) as caught:
        scheme_from_config(fp8(block))
    assert caught.value.field == "quantization_config.weight_block_size"


def test_malformed_weight_block_size_under_the_legacy_key_names_that_key() -> None:
    """A block read from compression_config is named under compression_config."""
    with pytest.raises(InvalidConfig) as caught:
        scheme_from_config(fp8([128]), where="compression_config")
    assert caught.value.field == "compression_config.weight_block_size"


@pytest.mark.parametrize(
    ("block", "label"),
    [([128, 128], "fp8-block128x128"), ([1, 64], "fp8-block1x64"), (None, "fp8-tensor")],
    ids=["deepseek-128", "row-64", "null-per-tensor"],
)
def test_well_formed_weight_block_size_sets_the_scale_block(block: Any, label: str) -> None:
    """[rows, cols] sets the block; null (as absent) means one scale per tensor."""
    assert scheme_from_config(fp8(block)).rules[0].format.label == label


@pytest.mark.parametrize("block", MALFORMED)
def test_malformed_block_structure_is_invalid_naming_it(block: Any) -> None:
    """compressed-tensors block_structure of another shape is InvalidConfig naming its group."""
    with pytest.raises(InvalidConfig) as caught:
        scheme_from_config(compressed_tensors_fp8_block(block))
    field = "quantization_config.config_groups.group_0.weights.block_structure"
    assert caught.value.field == field


def test_a_huge_malformed_block_is_quoted_short() -> None:
    """A 100,000-entry weight_block_size is quoted in a few dozen characters, not echoed."""
    with pytest.raises(InvalidConfig) as caught:
        scheme_from_config(fp8(list(range(100_000))))
    assert len(caught.value.detail) < 120
