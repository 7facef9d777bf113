"""The multimodal part of vLLM V1's profile run: the encoder forward and its output cache.

``GPUModelRunner.profile_run`` (``vllm/v1/worker/gpu_model_runner.py``) first encodes a
dummy batch of the largest items of the modality with the most rows per item, keeps the
outputs (``self.encoder_cache["tmp"]``) through the language model's dummy forward and the
sampler warm-up, and clears them after. The torch peak of the profile run is therefore::

    max(encoder forward, language-model forward or sampler) + encoder cache

How many items (``vllm/multimodal/encoder_budget.py`` ``MultiModalBudget._get_max_items``;
``compute_mm_encoder_budget``: both encoder budgets default to ``max_num_batched_tokens``,
raised to one item), with ``T`` the item's embedding rows::

    budget = max(max_num_batched_tokens, T)
    per_prompt = max(1, min(limit_mm_per_prompt, max_model_len // T))
    items = max(1, min(budget // T, max_num_seqs · per_prompt))

A limit of 0 for every modality (``--language-model-only``) removes the tower and its
profiling: no items. The cache holds ``items · T · d`` 16-bit values; the encoder forward
over ``items · P`` patch tokens (``P`` per item, before merging) is priced like the language
model's forward, ``c · (f_v/t + h_v)`` bytes per token with the profile's own ``c``
(``activation_bytes_per_token_width``, read off a text model's log): the vision MLP is
tensor-parallel in vLLM (``ColumnParallelLinear`` / ``RowParallelLinear`` unless
``mm_encoder_tp_mode`` is ``data``). That the tower's activations follow the same constant
is an assumption no multimodal log has checked yet; with vLLM's default ``max_num_seqs`` the
sampler warm-up is the larger phase for every modelled family.
"""

from __future__ import annotations

from service.domain.architecture import Architecture
from service.domain.engines.profile import EngineProfile

ACTIVATION_BYTES = 2
"""bf16/fp16 activations (vLLM runs fp32 checkpoints in bf16 too)."""


def encoder_items(
    arch: Architecture,
    tokens: int,
    seqs: int,
    max_model_len: int,
    items_per_prompt: int | None = None,
) -> int:
    """Items in the profile run's dummy encoder batch (module formula); 0 without one."""
    per_item = arch.encoder_max_tokens_per_item
    if per_item <= 0 or items_per_prompt == 0:
        return 0
    budget = max(tokens, per_item)
    per_prompt = max_model_len // per_item
    if items_per_prompt is not None:
        per_prompt = min(per_prompt, items_per_prompt)
    return max(1, min(budget // per_item, seqs * max(1, per_prompt)))


def encoder_cache_bytes(
    arch: Architecture,
    tokens: int,
    seqs: int,
    max_model_len: int,
    items_per_prompt: int | None = None,
) -> int:
    """Dummy encoder outputs held during the profile run: ``items · T · d · 2`` B.

    Llama-4-Scout, 8192 batched tokens: 3 · 2448 · 5120 · 2 B = 75,202,560 B.
    """
    return _cached_bytes(arch, encoder_items(arch, tokens, seqs, max_model_len, items_per_prompt))


def _cached_bytes(arch: Architecture, items: int) -> int:
    """``items · T · d · 2`` B of encoder outputs."""
    return items * arch.encoder_max_tokens_per_item * arch.hidden_size * ACTIVATION_BYTES


def encoder_forward_bytes(
    arch: Architecture, profile: EngineProfile, items: int, tensor_parallel: int = 1
) -> int:
    """The encoder forward's peak: ``items · P · c · (f_v/t + h_v)`` bytes."""
    width = arch.encoder_intermediate_size / tensor_parallel + arch.encoder_hidden_size
    tokens = items * arch.encoder_patches_per_item
    return int(tokens * profile.activation_bytes_per_token_width * width)


def profile_run_peak(
    arch: Architecture,
    profile: EngineProfile,
    language_model_peak: int,
    tokens: int,
    seqs: int,
    max_model_len: int,
    items_per_prompt: int | None = None,
    tensor_parallel: int = 1,
) -> int:
    """``max(encoder forward, language-model peak) + encoder cache`` (module formula)."""
    items = encoder_items(arch, tokens, seqs, max_model_len, items_per_prompt)
    if not items:
        return language_model_peak
    encoder = encoder_forward_bytes(arch, profile, items, tensor_parallel)
    return max(language_model_peak, encoder) + _cached_bytes(arch, items)
