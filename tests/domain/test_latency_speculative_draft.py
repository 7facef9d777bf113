"""The speculative proposer's cost: k draft passes per verification step, and its memory."""

from __future__ import annotations

import pytest

from service.catalog_files import load_engine_profiles
from service.domain.architecture import Architecture
from service.domain.batching import at_concurrency
from service.domain.capacity import BindingConstraint, Capacity
from service.domain.deployment import Deployment, MemoryBudget
from service.domain.hf_config import architecture_from_config
from service.domain.latency import Efficiency, Serving
from service.domain.modifiers import InvalidModifier, Modifiers, apply
from service.domain.modifiers_draft import (
    DraftMemory,
    DraftModel,
    SpeculativeMethod,
    draft_memory,
    with_draft_kv,
)
from service.domain.modifiers_fit import capacity_with_extras
from service.domain.parameters import ParameterCount, count_parameters
from service.domain.precision import Precision
from service.domain.step_time import StepCosts, step_costs
from service.domain.weights import weight_memory
from tests.domain.reference import (
    DEEPSEEK_V3,
    H100,
    H200,
    REFERENCE_DIR,
    arch,
    load_reference,
    params,
    with_fields,
)

SHEET = Efficiency(prefill_mfu=0.5, decode_mbu=0.75, step_overhead_ms=0.5, layer_overhead_us=5)
LLAMA_1B_PARAMETERS = 1_235_814_400  # catalog/reference/models.json, meta-llama/Llama-3.2-1B
# deepseek-ai/DeepSeek-V3: 671,026,419,200 model + 13,463,426,304 MTP elements (the Hub's
# BF16 + F8 tensors plus F32 router biases; service/domain/parameters.py mtp_parameters).
DEEPSEEK_MTP_PARAMETERS = 13_463_426_304
DEEPSEEK_EMBEDDING = 129_280 * 7_168  # vocab_size x hidden_size of its config.json

DRAFT_1B = DraftModel(name="llama3.2-1b", arch=arch("llama3.2-1b"), params=params("llama3.2-1b"))
DSV3_MTP = architecture_from_config(with_fields(DEEPSEEK_V3, num_nextn_predict_layers=1))


def costs(
    model: tuple[Architecture, ParameterCount], modifiers: Modifiers, serving: Serving
) -> StepCosts:
    a, p = model
    plain = step_costs(a, p, serving, input_tokens=2000, output_tokens=300)
    return apply(plain, modifiers, a, p, serving)


def speculative(method: SpeculativeMethod, draft: DraftModel | None = None) -> Modifiers:
    return Modifiers(draft_tokens=4, acceptance_rate=0.8, method=method, draft=draft)


LLAMA_70B = (arch("llama3-70b"), params("llama3-70b"))
DSV3 = (DSV3_MTP, count_parameters(DSV3_MTP))
TP4 = Serving(gpu=H100, tensor_parallel=4)
TP8_FP8 = Serving(gpu=H100, tensor_parallel=8, weight_precision=Precision.FP8)


def test_ngram_proposes_for_free() -> None:
    """Prompt lookup runs no model: the step's weight read and KV are the target's alone."""
    ngram = costs(LLAMA_70B, speculative(SpeculativeMethod.NGRAM), TP4)
    plain = costs(LLAMA_70B, Modifiers(), TP4)
    assert ngram.dense_weight_read_s == plain.dense_weight_read_s
    assert ngram.decode.kv_s == plain.decode.kv_s


def test_a_draft_model_reads_its_weights_once_per_draft_token() -> None:
    """k = 4 passes of Llama-3.2-1B in bf16 on one H100: 4 x 1,235,814,400 x 2 B / 3.35 TB/s."""
    serving = Serving(gpu=H100)
    model = (arch("llama3-8b"), params("llama3-8b"))
    drafted = costs(model, speculative(SpeculativeMethod.DRAFT_MODEL, DRAFT_1B), serving)
    ngram = costs(model, speculative(SpeculativeMethod.NGRAM), serving)
    added = drafted.dense_weight_read_s - ngram.dense_weight_read_s
    assert added == pytest.approx(4 * LLAMA_1B_PARAMETERS * 2 / 3.35e12, rel=1e-3)


def test_an_mtp_pass_reads_one_mtp_layer_and_the_head() -> None:
    """DeepSeek-V3 fp8 on TP 8: each of k = 4 passes reads the MTP layer less its embedding
    copy (a row gather), its head included: (13,463,426,304 − V·d) x 1 B / 8 GPUs."""
    mtp = costs(DSV3, speculative(SpeculativeMethod.MTP), TP8_FP8)
    ngram = costs(DSV3, speculative(SpeculativeMethod.NGRAM), TP8_FP8)
    added = (mtp.dense_weight_read_s + mtp.routed_weight_read_s) - (
        ngram.dense_weight_read_s + ngram.routed_weight_read_s
    )
    per_pass = (DEEPSEEK_MTP_PARAMETERS - DEEPSEEK_EMBEDDING) / 8 / 3.35e12
    assert added == pytest.approx(4 * per_pass, rel=1e-3)


@pytest.mark.parametrize(
    ("model", "serving", "method", "draft"),
    [
        (LLAMA_70B, TP4, SpeculativeMethod.DRAFT_MODEL, DRAFT_1B),
        (DSV3, TP8_FP8, SpeculativeMethod.MTP, None),
    ],
    ids=["llama-70b-with-1b-draft", "deepseek-v3-mtp"],
)
def test_the_proposer_slows_speculation_but_it_still_pays_at_one_user(
    model: tuple[Architecture, ParameterCount],
    serving: Serving,
    method: SpeculativeMethod,
    draft: DraftModel | None,
) -> None:
    """One user, α = 0.8, k = 4: plain decoding > with the proposer priced > free proposer."""

    def tpot(modifiers: Modifiers) -> float:
        steady = at_concurrency(
            costs(model, modifiers, serving), SHEET, chunk_tokens=8192, max_batch=64, concurrency=1
        )
        return steady.tpot_ms

    plain = tpot(Modifiers())
    priced = tpot(speculative(method, draft))
    free = tpot(speculative(SpeculativeMethod.NGRAM))
    assert plain > priced > free


def test_draft_memory_is_its_weights_at_the_targets_tp_and_its_kv() -> None:
    """Llama-3.2-1B beside a TP 4 target: a quarter of its bf16 weights per GPU, and its KV
    per token: 16 layers x (K, V) x 8/4 KV heads x 64 x 2 B."""
    memory = draft_memory(*LLAMA_70B, TP4, SpeculativeMethod.DRAFT_MODEL, DRAFT_1B)
    assert memory.weight_bytes == pytest.approx(LLAMA_1B_PARAMETERS * 2 / 4, rel=0.01)
    assert memory.kv_bytes_per_token == 16 * 2 * (8 // 4) * 64 * 2


def test_mtp_memory_is_the_mtp_layers_and_one_attention_layers_cache() -> None:
    """DeepSeek-V3 fp8 TP 8: 13,463,426,304 MTP elements less the embedding and head copies
    the engine swaps for the target's (2 x 129,280 x 7,168), x 1 B / 8; MLA caches 512 + 64
    latent elements per token in bf16 for its one MTP layer."""
    memory = draft_memory(
        *DSV3,
        Serving(gpu=H100, tensor_parallel=8, weight_precision=Precision.FP8),
        SpeculativeMethod.MTP,
        None,
    )
    assert memory.weight_bytes == (DEEPSEEK_MTP_PARAMETERS - 2 * DEEPSEEK_EMBEDDING) // 8
    assert memory.kv_bytes_per_token == (512 + 64) * 2


def fit(per_sequence: int, pool: int, max_batch: int) -> Capacity:
    return Capacity(
        fits=True,
        max_batch=max_batch,
        kv_cache_tokens=0,
        kv_cache_blocks=0,
        max_context_for_batch_1=0,
        memory=MemoryBudget(
            total=pool,
            usable=pool,
            weights=0,
            activation=0,
            non_torch=0,
            cudagraph=0,
            kv_cache=pool,
        ),
        binding_constraint=BindingConstraint.KV_CACHE,
        reasons=(),
        kv_cache_bytes_per_sequence=per_sequence,
        kv_cache_pool_bytes=pool,
    )


@pytest.mark.parametrize(
    ("draft_per_token", "expected"),
    [(0, 100), (1000, 50), (3000, 25), (10**6, 0)],
    ids=["no-draft", "as-large-as-the-target", "three-times", "too-large"],
)
def test_the_drafts_kv_shares_the_pool(draft_per_token: int, expected: int) -> None:
    """A pool of 100 sequences of 1,000 tokens x 1,000 B holds pool // (KV_t + KV_d) of them."""
    held = with_draft_kv(
        fit(per_sequence=1000 * 1000, pool=100 * 1000 * 1000, max_batch=100),
        DraftMemory(weight_bytes=0, kv_bytes_per_token=draft_per_token),
        context_tokens=1000,
    )
    assert held.max_batch == expected
    assert held.fits == (expected > 0)


@pytest.mark.parametrize(
    ("model", "modifiers", "field"),
    [
        (LLAMA_70B, speculative(SpeculativeMethod.MTP), "method"),
        (LLAMA_70B, speculative(SpeculativeMethod.DRAFT_MODEL), "draft_model"),
        (LLAMA_70B, speculative(SpeculativeMethod.NGRAM, DRAFT_1B), "draft_model"),
        (
            (arch("llama2-7b"), params("llama2-7b")),
            speculative(SpeculativeMethod.DRAFT_MODEL, DRAFT_1B),
            "draft_model",
        ),
    ],
    ids=["mtp-without-mtp-layers", "draft-model-missing", "draft-with-ngram", "other-vocabulary"],
)
def test_a_proposer_that_cannot_run_names_its_field(
    model: tuple[Architecture, ParameterCount], modifiers: Modifiers, field: str
) -> None:
    """MTP needs MTP layers; a draft model is required with, and only with, draft_model, and
    must share the target's vocabulary (Llama-2's 32,000 tokens vs Llama-3's 128,256)."""
    with pytest.raises(InvalidModifier) as raised:
        costs(model, modifiers, Serving(gpu=H100))
    assert raised.value.field == field


@pytest.mark.parametrize("engine", ["vllm-0.24.0", "sglang-0.5.3"], ids=["vllm-v1", "sglang"])
def test_the_mtp_layer_caches_like_one_more_layer(engine: str) -> None:
    """DeepSeek-V3 fp8 on 8 H200s: each sequence's cache grows by the MTP layer's, 62/61 of
    the 61 MLA layers' (vLLM V1 pages it with the model's; elsewhere it sits beside it)."""
    profile = load_engine_profiles().get(engine)
    a, p = DSV3
    serving = Serving(
        gpu=H200, tensor_parallel=8, weight_precision=Precision.FP8, kv_precision=Precision.BF16
    )
    deployment = Deployment(
        gpu_memory_bytes=H200.memory_bytes,
        tensor_parallel=8,
        weight_precision=Precision.FP8,
        kv_precision=Precision.BF16,
        gpu_name=H200.name,
    )

    def fit(modifiers: Modifiers) -> Capacity:
        return capacity_with_extras(
            a,
            p,
            serving,
            modifiers,
            loaded_weight_bytes=weight_memory(a, p, Precision.FP8, 8, 1).per_gpu_bytes,
            deployment=deployment,
            profile=profile,
            context_tokens=8192,
        )

    plain, mtp = fit(Modifiers()), fit(speculative(SpeculativeMethod.MTP))
    ratio = mtp.kv_cache_bytes_per_sequence / plain.kv_cache_bytes_per_sequence
    assert ratio == pytest.approx(62 / 61, rel=2e-3)
    assert mtp.max_batch < plain.max_batch


def test_mtp_declared_in_the_config_prices_the_declared_layer() -> None:
    """Qwen3-Next-80B with its one MTP layer declared (mtp_num_hidden_layers 1, the layer its
    checkpoint ships): the proposer's bf16 weights are the Hub total less the model's count."""
    (entry,) = [
        m
        for m in load_reference(REFERENCE_DIR / "models_2025.json")["models"]
        if m["repo_id"] == "Qwen/Qwen3-Next-80B-A3B-Instruct"
    ]
    a = architecture_from_config(with_fields(entry["config"], mtp_num_hidden_layers=1))
    p = count_parameters(a)
    memory = draft_memory(a, p, Serving(gpu=H200), SpeculativeMethod.MTP, None)
    assert memory.weight_bytes == (entry["hub_safetensors_total"] - p.total) * 2


def test_a_draft_that_tips_the_weights_over_says_so() -> None:
    """Llama-3.1-70B bf16 fits two H200s alone (70.6 GB per GPU); with a draft as large as
    itself (70.6 GB more) it does not, and the reason names the proposer's share."""
    profile = load_engine_profiles().get("vllm-0.24.0")
    a, p = LLAMA_70B
    serving = Serving(gpu=H200, tensor_parallel=2)
    deployment = Deployment(
        gpu_memory_bytes=H200.memory_bytes,
        tensor_parallel=2,
        weight_precision=Precision.BF16,
        kv_precision=Precision.BF16,
        gpu_name=H200.name,
    )
    draft = DraftModel(name="llama3-70b", arch=a, params=p)

    def fit(modifiers: Modifiers) -> Capacity:
        return capacity_with_extras(
            a,
            p,
            serving,
            modifiers,
            loaded_weight_bytes=weight_memory(a, p, Precision.BF16, 2, 1).per_gpu_bytes,
            deployment=deployment,
            profile=profile,
            context_tokens=4096,
        )

    alone, drafted = fit(Modifiers()), fit(speculative(SpeculativeMethod.DRAFT_MODEL, draft))
    assert alone.fits
    assert not drafted.fits
    assert "speculative proposer's" in " ".join(drafted.reasons)
