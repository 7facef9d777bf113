"""The ``engine`` of a question: which engine profile answers it.

``"vllm"``, ``"sglang"``, ``"trtllm"`` (a name alone: that engine's newest profile),
``"vllm==0.19.0"`` or the profile id ``"vllm-0.19.0"``; absent: the catalog's default.
"""

from __future__ import annotations

from service.domain.engine import EngineCatalog, EngineProfile, UnknownEngine
from service.planning.errors import UnknownEngineName


def resolve_engine(engines: EngineCatalog, requested: str | None) -> EngineProfile:
    """The profile a question names; :class:`UnknownEngineName` (400, field ``engine``)
    listing the accepted values otherwise."""
    try:
        return engines.resolve(requested)
    except UnknownEngine as exc:
        raise UnknownEngineName(exc.requested, exc.known) from None
