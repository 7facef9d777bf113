"""Catalog model aliases: a name a catalog file lists under ``aliases`` is that model."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from service.planning.names import alias_target, suggest_models
from tests.check.catalog import write_catalog
from tests.check.conftest import Run

LLAMA_8B = "meta-llama/Llama-3.1-8B"
ALIASES = {"meta-llama/Meta-Llama-3.1-8B": LLAMA_8B, "my-team/llm-small": LLAMA_8B}


@pytest.mark.parametrize(
    ("query", "target"),
    [
        pytest.param("meta-llama/Meta-Llama-3.1-8B", LLAMA_8B, id="exact"),
        pytest.param("Meta-Llama-3.1-8B", LLAMA_8B, id="without-org"),
        pytest.param("my-team/LLM_Small", LLAMA_8B, id="case-and-punctuation"),
        pytest.param("Meta-Llama-3.1-70B", None, id="another-size"),
    ],
)
def test_alias_names_its_model(query: str, target: str | None) -> None:
    """An alias matches as ids do: case, punctuation and the org prefix ignored."""
    assert alias_target(query, ALIASES) == target


def test_alias_shared_by_two_models_names_neither() -> None:
    """A name that is an alias of two different models resolves to neither."""
    assert alias_target("x", {"x": LLAMA_8B, "X": "org/other"}) is None


def test_alias_is_the_suggestion_for_an_unknown_name() -> None:
    """A 404's suggestion for an alias is the model it names."""
    assert suggest_models("my-team/llm-small", [LLAMA_8B, "org/other"], aliases=ALIASES) == [
        LLAMA_8B
    ]


@pytest.fixture
def aliased_catalog(tmp_path: Path) -> Path:
    """The gate's test catalog with ``my-team/llm-small`` listed as an alias of Llama-3.1-8B."""
    catalog = write_catalog(tmp_path / "catalog")
    path = catalog / "models" / "meta-llama--Llama-3.1-8B.yaml"
    seed = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**seed, "aliases": ["my-team/llm-small"]}), encoding="utf-8")
    return catalog


def test_gate_checks_an_alias_as_its_model_and_says_so(
    run_check: Callable[..., Run], aliased_catalog: Path
) -> None:
    """``capplan check`` gates an alias as the catalog model, with a warning naming both."""
    result = run_check(
        *["--offline", "--catalog-dir", str(aliased_catalog), "--gpu", "h100-sxm"],
        *["--format", "json", "--", "vllm", "serve", "my-team/llm-small"],
        *["--max-model-len", "8192"],
    )
    report = json.loads(result.out)
    assert report["setup"]["model"] == LLAMA_8B
    assert any("my-team/llm-small" in w and LLAMA_8B in w for w in report["warnings"])
