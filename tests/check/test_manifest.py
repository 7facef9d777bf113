"""Manifest validation: every problem names the file and the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.contract.schemas import InlineModel
from service.gate.manifest import load_manifest
from service.gate.target import InputError
from tests.check.catalog import reference_config

BASE: dict[str, Any] = {"model": "meta-llama/Llama-3.1-8B", "gpu": "h100-sxm"}


def test_defaults_are_vllm_defaults(manifest: Callable[..., Path]) -> None:
    """Unset fields take vLLM's defaults: TP 1, 0.9 utilization, auto precisions."""
    target = load_manifest(manifest(**BASE))
    assert (target.tensor_parallel, target.pipeline_parallel, target.replicas) == (1, 1, 1)
    assert target.gpu_memory_utilization == 0.9
    assert (target.weight_dtype, target.kv_cache_dtype, target.max_model_len) == (
        "auto",
        "auto",
        None,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"model": "m/x"}, "gpu", id="missing-gpu"),
        pytest.param({**BASE, "max_model_len": -5}, "max_model_len", id="negative-max-model-len"),
        pytest.param({**BASE, "gpus": "h100-sxm"}, "gpus", id="unknown-field"),
        pytest.param({**BASE, "gpu_memory_utilization": 1.5}, "gpu_memory_utilization", id="util"),
        pytest.param({**BASE, "dtype": "float8"}, "dtype", id="bad-dtype"),
        pytest.param({**BASE, "kv_cache_dtype": "int2"}, "kv_cache_dtype", id="bad-kv-dtype"),
        pytest.param({**BASE, "quantization": "magic"}, "quantization", id="bad-quantization"),
        pytest.param({**BASE, "gpu_count": 3, "tensor_parallel": 2}, "gpu_count", id="uneven"),
        pytest.param({**BASE, "slo": {"ttft_ms": 100}}, "slo", id="slo-without-workload"),
        pytest.param(
            {**BASE, "workload": {"input_tokens": 0, "output_tokens": 1}},
            "workload.input_tokens",
            id="nested-field",
        ),
    ],
)
def test_invalid_manifest_names_file_and_field(
    manifest: Callable[..., Path], fields: dict[str, Any], field: str
) -> None:
    """The error carries the manifest's path and the offending field."""
    path = manifest(**fields)
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    assert (caught.value.source, caught.value.field) == (str(path), field)
    assert str(path) in str(caught.value)
    assert f"field '{field}'" in str(caught.value)


def test_gpu_count_beyond_one_replica_makes_replicas(manifest: Callable[..., Path]) -> None:
    """8 GPUs at TP 2 are 4 data-parallel replicas."""
    target = load_manifest(manifest(**BASE, gpu_count=8, tensor_parallel=2))
    assert (target.tensor_parallel, target.replicas, target.gpu_count) == (2, 4, 8)


def test_gpu_count_alone_is_the_tensor_parallel_size(manifest: Callable[..., Path]) -> None:
    """Without ``tensor_parallel``, all GPUs serve one replica."""
    target = load_manifest(manifest(**BASE, gpu_count=4))
    assert (target.tensor_parallel, target.replicas) == (4, 1)


@pytest.mark.parametrize(
    ("fields", "weights", "kv"),
    [
        pytest.param({"dtype": "bfloat16"}, "bf16", "auto", id="bfloat16"),
        pytest.param({"dtype": "half", "kv_cache_dtype": "fp8_e5m2"}, "fp16", "fp8", id="half"),
        pytest.param({"quantization": "awq"}, "int4", "auto", id="awq"),
        pytest.param({"quantization": "fp8"}, "fp8", "auto", id="online-fp8"),
        pytest.param({"quantization": "compressed-tensors"}, "auto", "auto", id="checkpoint"),
    ],
)
def test_precisions_take_vllm_spellings(
    manifest: Callable[..., Path], fields: dict[str, Any], weights: str, kv: str
) -> None:
    """vLLM's dtype and quantization names map to the API's precisions."""
    target = load_manifest(manifest(**BASE, **fields))
    assert (target.weight_dtype, target.kv_cache_dtype) == (weights, kv)


def test_model_path_inlines_the_config(tmp_path: Path, manifest: Callable[..., Path]) -> None:
    """A ``config.json`` path, relative to the manifest, is read as an inline architecture."""
    config = reference_config("meta-llama/Llama-3.1-8B")
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    target = load_manifest(manifest(model="config.json", gpu="l4"))
    assert target.model == InlineModel(hf_config=config)
    assert target.model_label == "config.json"


def test_model_directory_reads_its_config_json(
    tmp_path: Path, manifest: Callable[..., Path]
) -> None:
    """A directory (as ``vllm serve ./local-model`` takes) means its ``config.json``."""
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    target = load_manifest(manifest(model="local", gpu="l4"))
    assert target.model == InlineModel(hf_config={"model_type": "llama"})


def test_missing_config_json_is_a_model_error(manifest: Callable[..., Path]) -> None:
    """A ``.json`` model that does not exist names the ``model`` field."""
    with pytest.raises(InputError) as caught:
        load_manifest(manifest(model="nowhere/config.json", gpu="l4"))
    assert caught.value.field == "model"


def test_unparsable_file_is_an_input_error(tmp_path: Path) -> None:
    """Broken YAML is reported against the file, not as a crash."""
    path = tmp_path / "broken.yaml"
    path.write_text("model: [unclosed", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_manifest(path)
    assert caught.value.source == str(path)


def test_overrides_replace_manifest_fields(manifest: Callable[..., Path]) -> None:
    """``--gpu`` on the command line wins over the manifest's ``gpu``."""
    assert load_manifest(manifest(**BASE), {"gpu": "l4"}).gpu == "l4"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"max_model_len": "8192"}, "Expected `int | null`, got `str` '8192'",
                     id="quoted-number"),
        pytest.param({"max_model_len": -5}, "Expected `int` >= 1, got -5", id="out-of-range"),
        pytest.param({"expert_parallel": "yes"}, "Expected `bool`, got `str` 'yes'",
                     id="string-for-bool"),
    ],
)  # fmt: skip
def test_a_bad_value_is_quoted_once_after_its_type(
    manifest: Callable[..., Path], fields: dict[str, Any], message: str
) -> None:
    """msgspec names the type it got; the value follows it, without a second "got"."""
    with pytest.raises(InputError) as caught:
        load_manifest(manifest(**BASE, **fields))
    assert caught.value.message == message
