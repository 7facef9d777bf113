"""The MTP layer's own LM-head copy is per engine version: vLLM before vllm#34385 (merged
2026-02-12) keeps each DeepSeek-layout ``shared_head.head`` resident, later vLLM, SGLang and
TensorRT-LLM give the draft the target's ``lm_head`` (``EngineProfile.mtp_shares_lm_head``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.catalog_files import load_engine_profiles
from service.domain.hf_config import architecture_from_config
from service.domain.latency import Serving
from service.domain.modifiers import Modifiers, proposer_memory
from service.domain.modifiers_draft import SpeculativeMethod
from service.domain.parameters import count_parameters
from service.domain.precision import Precision
from tests.domain.reference import (
    DEEPSEEK_V3,
    H200,
    REFERENCE_DIR,
    load_reference,
    with_fields,
)

# deepseek-ai/DeepSeek-V3 config.json: vocab_size 129,280, hidden_size 7,168.
VOCAB, WIDTH = 129_280, 7_168
DSV3 = architecture_from_config(with_fields(DEEPSEEK_V3, num_nextn_predict_layers=1))
DSV3_PARAMS = count_parameters(DSV3)
ENGINES = load_engine_profiles()
MTP = Modifiers(draft_tokens=1, acceptance_rate=0.8, method=SpeculativeMethod.MTP)
# vllm-project/vllm#34385 was merged on 2026-02-12 (vLLM weekly summary of 2026-02-13).
SHARING_MERGED = "2026-02"


def proposer_weight_bytes(engine_id: str, tensor_parallel: int) -> int:
    serving = Serving(gpu=H200, tensor_parallel=tensor_parallel, weight_precision=Precision.FP8)
    shares = ENGINES.get(engine_id).mtp_shares_lm_head
    memory = proposer_memory(MTP, DSV3, DSV3_PARAMS, serving, mtp_shares_lm_head=shares)
    return memory.weight_bytes


@pytest.mark.parametrize(
    ("tensor_parallel", "head_bytes"),
    [(8, 115_834_880), (1, 926_679_040)],
    ids=["tp8-116MB", "tp1-927MB"],
)
def test_an_old_vllm_prices_the_head_copy(tensor_parallel: int, head_bytes: int) -> None:
    """DeepSeek-V3 fp8: vllm-0.10.1's proposer holds 129,280 x 7,168 x 1 B / t more than
    vllm-0.24.0's (115,834,880 B per GPU at TP 8), the one MTP layer's head copy."""
    assert head_bytes == VOCAB * WIDTH // tensor_parallel
    old = proposer_weight_bytes("vllm-0.10.1", tensor_parallel)
    new = proposer_weight_bytes("vllm-0.24.0", tensor_parallel)
    assert old - new == head_bytes


@pytest.mark.parametrize("engine_id", ["vllm-0.24.0", "sglang-0.5.3", "trtllm-1.0.0"])
def test_a_sharing_engine_holds_only_the_mtp_layer(engine_id: str) -> None:
    """Engines that bind the target's head hold the same proposer weights as today's vLLM."""
    assert proposer_weight_bytes(engine_id, 8) == proposer_weight_bytes("vllm-0.24.0", 8)


def test_a_layout_without_a_head_copy_is_unchanged() -> None:
    """Qwen3-Next's MTP module has no per-layer ``shared_head.head``: the flag changes nothing."""
    (entry,) = [
        m
        for m in load_reference(REFERENCE_DIR / "models_2025.json")["models"]
        if m["repo_id"] == "Qwen/Qwen3-Next-80B-A3B-Instruct"
    ]
    qwen = architecture_from_config(with_fields(entry["config"], mtp_num_hidden_layers=1))
    params = count_parameters(qwen)
    serving = Serving(gpu=H200, tensor_parallel=4)
    kept = proposer_memory(MTP, qwen, params, serving, mtp_shares_lm_head=False)
    shared = proposer_memory(MTP, qwen, params, serving, mtp_shares_lm_head=True)
    assert kept.weight_bytes > 0
    assert kept == shared


@pytest.mark.parametrize(
    "engine_id", sorted(p.id for p in ENGINES.profiles.values() if p.name == "vllm")
)
def test_vllm_profiles_follow_the_merge_date(engine_id: str) -> None:
    """A vLLM profile shares the head exactly when it was released after vllm#34385."""
    profile = ENGINES.get(engine_id)
    assert profile.mtp_shares_lm_head == (profile.released > SHARING_MERGED)


@pytest.mark.parametrize(
    ("line", "shown"),
    [("", "None"), (", mtp_shares_lm_head: 1", "1"), (", mtp_shares_lm_head: 'true'", "'true'")],
    ids=["missing", "integer", "string"],
)
def test_an_unstated_head_sharing_names_file_entry_and_field(
    tmp_path: Path, line: str, shown: str
) -> None:
    """engines.yaml must say true or false for every entry; the error names all three."""
    path = tmp_path / "engines.yaml"
    path.write_text(
        f"default: vllm-0.7\nengines:\n  - {{id: vllm-0.7, name: vllm, version: '0.7'{line}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="mtp_shares_lm_head") as raised:
        load_engine_profiles(path)
    message = str(raised.value)
    assert str(path) in message
    assert "'vllm-0.7'" in message
    assert f"mtp_shares_lm_head must be true or false, got {shown}" in message
