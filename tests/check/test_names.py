"""Names people type: variants resolve to their base, near misses get suggestions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from service.planning.names import base_of_variant
from tests.check.conftest import Run

IDS = ["meta-llama/Llama-3.1-8B", "meta-llama/Llama-2-7b-hf", "google/gemma-2-9b", "org/X-7B"]
SERVE = ["vllm", "serve"]


@pytest.mark.parametrize(
    ("query", "base"),
    [
        pytest.param("Meta-Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B", id="meta-instruct"),
        pytest.param("meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B", id="org"),
        pytest.param("Llama-2-7b-chat-hf", "meta-llama/Llama-2-7b-hf", id="chat-hf"),
        pytest.param("gemma-2-9b-it", "google/gemma-2-9b", id="gemma-it"),
        pytest.param("Llama-3.1-8B", None, id="not-a-variant"),
        pytest.param("Llama-3.1-9B-Instruct", None, id="no-base"),
    ],
)
def test_variants_resolve_to_their_base(query: str, base: str | None) -> None:
    """Dropping Instruct/chat/it (and a Meta- prefix) must leave a catalog id exactly."""
    assert base_of_variant(query, IDS) == base


def _run(run_check: Callable[..., Run], backend_args: list[str], gpu: str, model: str) -> Run:
    argv = ["--gpu", gpu, "--format", "json", "--", *SERVE, model, "--max-model-len", "8192"]
    return run_check(*backend_args, *argv)


def test_instruct_name_is_checked_as_its_base_and_says_so(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """``Meta-Llama-3.1-8B-Instruct`` is gated as the catalog's Llama-3.1-8B, out loud."""
    report = json.loads(_run(run_check, backend_args, "h100-sxm", "Meta-Llama-3.1-8B-Instruct").out)
    assert report["setup"]["model"] == "meta-llama/Llama-3.1-8B"
    assert any("Meta-Llama-3.1-8B-Instruct" in warning for warning in report["warnings"])


def test_unknown_model_suggests_the_nearest(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """A typo exits 2 and names the catalog model it is closest to."""
    result = _run(run_check, backend_args, "h100-sxm", "lama-3.1-8b")
    assert (result.code, "did you mean meta-llama/Llama-3.1-8B" in result.err) == (2, True)


def test_gpu_family_asks_which(
    run_check: Callable[..., Run], backend_args: list[str], catalog_dir: Path
) -> None:
    """``h100`` is several catalog GPUs: the error lists every one of them."""
    gpus = yaml.safe_load((catalog_dir / "gpus.yaml").read_text(encoding="utf-8"))["gpus"]
    family = [gpu["id"] for gpu in gpus if gpu["id"].startswith("h100")]
    result = _run(run_check, backend_args, "h100", "meta-llama/Llama-3.1-8B")
    assert result.code == 2
    assert all(gpu in result.err for gpu in family)


def test_gpu_id_in_another_case_is_that_gpu(
    run_check: Callable[..., Run], backend_args: list[str]
) -> None:
    """``H100-SXM`` is ``h100-sxm``, said in a warning."""
    report = json.loads(_run(run_check, backend_args, "H100-SXM", "meta-llama/Llama-3.1-8B").out)
    assert report["setup"]["gpu"] == "h100-sxm"
