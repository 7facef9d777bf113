"""Seed files are validated completely; every problem names its file, entry and field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.db.seed_loader import SeedError, SeedProblem, load_catalog
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import count_parameters

WriteCatalog = Callable[..., Path]


def problems_of(catalog_dir: Path) -> list[SeedProblem]:
    with pytest.raises(SeedError) as caught:
        load_catalog(catalog_dir)
    return caught.value.problems


def test_a_valid_catalog_loads_gpus_and_normalised_models(write_catalog: WriteCatalog) -> None:
    """GPU entries and model files load, with each model's architecture and parameter count."""
    catalog = load_catalog(write_catalog())
    assert [gpu.id for gpu in catalog.gpus] == ["h100-sxm", "l4"]
    assert catalog.gpus[1].dense_tflops_fp8 is None
    (model,) = catalog.models
    expected = count_parameters(architecture_from_config(model.seed.config))
    assert (model.seed.repo_id, model.architecture.model_type) == ("tiny-org/tiny-llama", "llama")
    assert model.parameters.total == expected.total == 202_048


def test_missing_field_names_file_entry_and_field(
    write_catalog: WriteCatalog, gpu_seeds: list[dict[str, Any]]
) -> None:
    """A GPU without a required field is reported by file, index and id, and field name."""
    del gpu_seeds[1]["memory_bandwidth_bytes_per_s"]
    (problem,) = problems_of(write_catalog(gpus=gpu_seeds))
    assert problem.file.name == "gpus.yaml"
    assert problem.entry == "#1 'l4'"
    assert problem.field == "memory_bandwidth_bytes_per_s"
    assert "missing required field" in problem.message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("memory_bandwidth_bytes_per_s", -1.0, "> 0"),
        ("memory_bytes", 0, ">= 1"),
        ("interconnect_bandwidth_bytes_per_s", 0.0, "> 0"),
        ("max_gpus_per_node", "eight", "Expected `int`, got `str`"),
        ("verified", "yes", "Expected `bool`"),
        ("sources", "https://example.org", "Expected `array`"),
        ("memory_gib", 80, "unknown field"),
    ],
    ids=[
        "negative-bandwidth",
        "zero-memory",
        "zero-link",
        "wrong-type",
        "not-bool",
        "not-list",
        "unknown",
    ],
)
def test_bad_gpu_value_names_the_field(
    write_catalog: WriteCatalog,
    gpu_seeds: list[dict[str, Any]],
    field: str,
    value: Any,
    message: str,
) -> None:
    """An out-of-range, mistyped or unknown GPU field is reported against that field."""
    gpu_seeds[0][field] = value
    (problem,) = problems_of(write_catalog(gpus=gpu_seeds))
    assert (problem.entry, problem.field) == ("#0 'h100-sxm'", field)
    assert message in problem.message


@pytest.mark.parametrize(
    ("bf16_tflops", "message"),
    [(989.0, "above the dense BF16 peak 989"), (0.0, "needs dense_tflops_bf16")],
    ids=["above-the-peak", "chip-without-bf16"],
)
def test_a_measured_matmul_rate_must_lie_under_the_peak(
    write_catalog: WriteCatalog,
    gpu_seeds: list[dict[str, Any]],
    bf16_tflops: float,
    message: str,
) -> None:
    """A measured BF16 rate above the chip's BF16 peak, or on a chip without BF16, is
    reported against achievable_tflops_bf16."""
    gpu_seeds[0].update(dense_tflops_bf16=bf16_tflops, achievable_tflops_bf16=1000.0)
    (problem,) = problems_of(write_catalog(gpus=gpu_seeds))
    assert (problem.entry, problem.field) == ("#0 'h100-sxm'", "achievable_tflops_bf16")
    assert message in problem.message


def test_duplicate_gpu_id_is_reported_on_the_repeat(
    write_catalog: WriteCatalog, gpu_seeds: list[dict[str, Any]]
) -> None:
    """A GPU id used twice is reported on the second entry, pointing at the first."""
    gpu_seeds.append(dict(gpu_seeds[0]))
    (problem,) = problems_of(write_catalog(gpus=gpu_seeds))
    assert (problem.entry, problem.field) == ("#2 'h100-sxm'", "id")
    assert "duplicate id 'h100-sxm' (first defined at entry #0 'h100-sxm')" in problem.message


def test_duplicate_model_across_files_is_reported(
    write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """Two files for the same repository (.yaml and .yml) are a duplicate repo_id."""
    catalog_dir = write_catalog(models=[model_seed])
    original = catalog_dir / "models" / "tiny-org--tiny-llama.yaml"
    original.with_suffix(".yml").write_text(original.read_text())
    (problem,) = problems_of(catalog_dir)
    assert (problem.file.name, problem.field) == ("tiny-org--tiny-llama.yml", "repo_id")
    assert "duplicate repo_id" in problem.message


def test_model_file_must_be_named_after_its_repository(
    write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """models/<org>--<name>.yaml must hold the repo_id org/name."""
    catalog_dir = write_catalog(models=[model_seed])
    (catalog_dir / "models" / "tiny-org--tiny-llama.yaml").rename(
        catalog_dir / "models" / "other--name.yaml"
    )
    (problem,) = problems_of(catalog_dir)
    assert (problem.file.name, problem.entry, problem.field) == (
        "other--name.yaml",
        "'tiny-org/tiny-llama'",
        "repo_id",
    )
    assert "tiny-org--tiny-llama.yaml" in problem.message


def test_invalid_model_config_names_the_config_field(
    write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """A config the domain rejects is reported under config.<field>."""
    model_seed["config"]["num_key_value_heads"] = 3
    (problem,) = problems_of(write_catalog(models=[model_seed]))
    assert problem.field == "config.num_key_value_heads"
    assert problem.entry == "'tiny-org/tiny-llama'"


def test_unsupported_architecture_is_a_config_problem(
    write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """An architecture capplan cannot model is reported against the config."""
    model_seed["config"]["model_type"] = "mamba"
    (problem,) = problems_of(write_catalog(models=[model_seed]))
    assert problem.field == "config"
    assert "unsupported architecture" in problem.message


def test_model_seed_missing_config_names_the_field(
    write_catalog: WriteCatalog, model_seed: dict[str, Any]
) -> None:
    """A model file without its config is reported as a missing field."""
    del model_seed["config"]
    (problem,) = problems_of(write_catalog(models=[model_seed]))
    assert (problem.file.name, problem.field) == ("tiny-org--tiny-llama.yaml", "config")


def test_every_problem_is_reported_at_once(
    write_catalog: WriteCatalog, gpu_seeds: list[dict[str, Any]], model_seed: dict[str, Any]
) -> None:
    """Problems in several entries and files are all listed, in file order."""
    gpu_seeds[0]["memory_bytes"] = -1
    gpu_seeds[1]["dense_tflops_fp16"] = 0
    del model_seed["source"]
    problems = problems_of(write_catalog(gpus=gpu_seeds, models=[model_seed]))
    assert [(p.file.name, p.field) for p in problems] == [
        ("gpus.yaml", "memory_bytes"),
        ("gpus.yaml", "dense_tflops_fp16"),
        ("tiny-org--tiny-llama.yaml", "source"),
    ]


def test_problem_message_reads_file_entry_field(
    write_catalog: WriteCatalog, gpu_seeds: list[dict[str, Any]]
) -> None:
    """The printed form of a problem starts with the file, entry and field."""
    gpu_seeds[0]["memory_bandwidth_bytes_per_s"] = -3
    catalog_dir = write_catalog(gpus=gpu_seeds)
    with pytest.raises(SeedError) as caught:
        load_catalog(catalog_dir)
    assert str(caught.value).startswith(
        f"{catalog_dir / 'gpus.yaml'}: entry #0 'h100-sxm': field 'memory_bandwidth_bytes_per_s': "
    )


def test_exponents_without_a_dot_are_numbers(write_catalog: WriteCatalog) -> None:
    """3.35e12 and 1e12 are read as floats, not strings (unlike plain YAML 1.1)."""
    catalog_dir = write_catalog()
    text = (catalog_dir / "gpus.yaml").read_text()
    text = text.replace("3350000000000.0", "3.35e12").replace("450000000000.0", "45e10")
    (catalog_dir / "gpus.yaml").write_text(text)
    gpu = load_catalog(catalog_dir).gpus[0]
    assert gpu.memory_bandwidth_bytes_per_s == 3.35e12
    assert gpu.interconnect_bandwidth_bytes_per_s == 450e9


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("gpus: [\n", "invalid YAML"), ("- a\n", "mapping"), ("{}", "list")],
    ids=["missing", "bad-yaml", "not-a-mapping", "no-gpus-key"],
)
def test_unusable_gpus_file_is_reported(
    write_catalog: WriteCatalog, content: str | None, message: str
) -> None:
    """A missing, unparsable or wrongly shaped gpus.yaml is reported against the file."""
    catalog_dir = write_catalog()
    gpus_file = catalog_dir / "gpus.yaml"
    if content is None:
        gpus_file.unlink()
    else:
        gpus_file.write_text(content)
    (problem,) = problems_of(catalog_dir)
    assert problem.file == gpus_file
    assert message in problem.message


def test_unparsable_model_file_is_reported(write_catalog: WriteCatalog) -> None:
    """A model file that is not YAML is reported against that file."""
    catalog_dir = write_catalog()
    broken = catalog_dir / "models" / "tiny-org--tiny-llama.yaml"
    broken.write_text("config: {\n")
    (problem,) = problems_of(catalog_dir)
    assert (problem.file, problem.entry) == (broken, "(file)")
    assert "invalid YAML" in problem.message


def test_nested_field_paths_are_named(
    write_catalog: WriteCatalog, gpu_seeds: list[dict[str, Any]]
) -> None:
    """A bad item inside a list field is named with its index."""
    gpu_seeds[0]["sources"] = ["https://example.org", 42]
    (problem,) = problems_of(write_catalog(gpus=gpu_seeds))
    assert problem.field == "sources[1]"


def test_entry_that_is_not_a_mapping_is_reported(
    write_catalog: WriteCatalog, gpu_seeds: list[dict[str, Any]]
) -> None:
    """A list item that is not a mapping is reported by its index."""
    (problem,) = problems_of(write_catalog(gpus=[*gpu_seeds, "h100"]))
    assert (problem.entry, problem.field) == ("#2", "(entry)")
