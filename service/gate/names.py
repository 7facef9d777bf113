"""Names people type, read against the catalog before anything is computed.

A model or GPU id the catalog has is used as given. Otherwise, said out loud in a warning:

* an alias a catalog model lists (its file's ``aliases``) is that model;
* a name that differs only in case, punctuation or the org prefix is that entry;
* an Instruct/chat variant of a catalog model (``Meta-Llama-3.1-8B-Instruct``) is checked
  as its base (``meta-llama/Llama-3.1-8B``): same architecture, so the same memory.

Anything else is an :class:`InputError` (exit 2) with the nearest names: a GPU family
(``h100``) lists its variants to choose from; a typo gets "did you mean".
"""

from __future__ import annotations

from msgspec.structs import replace

from service.contract.schemas import InlineModel
from service.gate.backend import Backend, Rejected, Unavailable
from service.gate.target import Target
from service.planning.names import (
    alias_target,
    base_of_variant,
    match_gpu,
    match_model,
    same_name,
)


def resolve_names(target: Target, backend: Backend) -> Target:
    """``target`` with its model and GPU as catalog ids (module doc)."""
    return _gpu(_model(target, backend), backend)


def _model(target: Target, backend: Backend) -> Target:
    name = target.model
    if isinstance(name, InlineModel):
        return target
    try:
        backend.architecture(name)
        return target
    except Rejected as exc:
        refusal = exc
    try:
        ids = backend.model_ids()
        aliased = alias_target(name, backend.model_aliases())
    except (Rejected, Unavailable):
        raise target.error("model", str(refusal)) from refusal
    if aliased is not None:
        note = f"model {name} checked as {aliased}: an alias the catalog lists for it"
        return _with(target, note, model=aliased, model_label=aliased)
    base = base_of_variant(name, ids)
    if base is not None:
        note = (
            f"model {name} checked as {base}: an Instruct/chat variant has its base model's "
            "architecture, so the same memory and speed"
        )
        return _with(target, note, model=base, model_label=base)
    found = match_model(name, ids)
    if found.value is not None and same_name(name, found.value):
        return _with(
            target,
            f"model {name} read as {found.value}",
            model=found.value,
            model_label=found.value,
        )
    candidates = [found.value] if found.value else list(found.candidates)
    hint = f"; did you mean {', '.join(candidates)}?" if candidates else ""
    raise target.error("model", f"'{name}' is not in the catalog{hint}") from refusal


def _gpu(target: Target, backend: Backend) -> Target:
    name = target.gpu
    try:
        backend.gpu(name)
        return target
    except Rejected as exc:
        refusal = exc
    try:
        gpus = backend.gpu_names()
    except (Rejected, Unavailable):
        raise target.error("gpu", str(refusal)) from refusal
    found = match_gpu(name, gpus)
    if found.value is not None and name.strip().lower() == found.value.lower():
        return _with(target, f"gpu {name} read as {found.value}", gpu=found.value)
    if found.ambiguous:
        choices = ", ".join(found.candidates)
        raise target.error("gpu", f"'{name}' is several GPUs: {choices}; say which")
    candidates = [found.value] if found.value else list(found.candidates)
    hint = f"; did you mean {', '.join(candidates)}?" if candidates else ""
    raise target.error("gpu", f"'{name}' is not in the catalog{hint}") from refusal


def _with(target: Target, note: str, **changes: object) -> Target:
    return replace(target, warnings=(*target.warnings, note), **changes)
