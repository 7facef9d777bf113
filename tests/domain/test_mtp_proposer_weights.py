"""The MTP proposer's resident weights: the engine binds the target's embedding and LM head
(vLLM ``llm_base_proposer.py`` ``_maybe_share_embeddings`` / ``_maybe_share_lm_head``, SGLang
``set_embed_and_head``), so only the MTP layer itself is left on each GPU."""

from __future__ import annotations

import pytest

from service.domain.hf_config import architecture_from_config
from service.domain.latency import Serving
from service.domain.modifiers_draft import SpeculativeMethod, draft_memory
from service.domain.parameters import count_parameters, mtp_parameters
from service.domain.precision import Precision
from tests.domain.reference import DEEPSEEK_V3, H200, with_fields

# deepseek-ai/DeepSeek-V3 config.json: vocab_size 129,280, hidden_size 7,168; its Hub total
# holds 13,463,426,304 MTP elements (model.layers.61, embed_tokens and shared_head.head
# included).
VOCAB, WIDTH = 129_280, 7_168
HUB_MTP_ELEMENTS = 13_463_426_304
DSV3 = architecture_from_config(with_fields(DEEPSEEK_V3, num_nextn_predict_layers=1))
DSV3_PARAMS = count_parameters(DSV3)


def mtp_weight_bytes(tensor_parallel: int, pipeline_parallel: int = 1) -> int:
    serving = Serving(
        gpu=H200,
        tensor_parallel=tensor_parallel,
        pipeline_parallel=pipeline_parallel,
        weight_precision=Precision.FP8,
    )
    return draft_memory(DSV3, DSV3_PARAMS, serving, SpeculativeMethod.MTP, None).weight_bytes


@pytest.mark.parametrize(
    ("tensor_parallel", "saved_bytes"),
    [(8, 231_669_760), (1, 1_853_358_080)],
    ids=["tp8-232MB", "tp1-1.85GB"],
)
def test_the_embedding_and_head_copies_are_not_resident(
    tensor_parallel: int, saved_bytes: int
) -> None:
    """DeepSeek-V3 fp8: the Hub's MTP elements x 1 B / t less the proposer's weights is the
    two V x d copies, 2 x 129,280 x 7,168 x 1 B / t (231,669,760 B per GPU at TP 8)."""
    assert saved_bytes == 2 * VOCAB * WIDTH // tensor_parallel
    as_stored = HUB_MTP_ELEMENTS // tensor_parallel
    assert as_stored - mtp_weight_bytes(tensor_parallel) == saved_bytes


def test_pipeline_parallel_keeps_the_drafts_own_embedding() -> None:
    """At PP 2 the draft runs on the last stage, without the target's embedding: its own
    129,280 x 7,168 bf16 copy stays, / TP 8 (the head is still the target's)."""
    assert mtp_weight_bytes(8, pipeline_parallel=2) - mtp_weight_bytes(8) == (
        VOCAB * WIDTH * 2 // 8
    )


def test_the_checkpoint_count_keeps_the_copies() -> None:
    """Parameter counting (count_check's oracle) still reads the checkpoint as stored: the
    DeepSeek-V3 MTP layer with its own embedding and head is the Hub's 13,463,426,304."""
    assert mtp_parameters(DSV3) == HUB_MTP_ELEMENTS
    assert DSV3_PARAMS.mtp == HUB_MTP_ELEMENTS
