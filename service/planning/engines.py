"""The ``engine`` of a question: which engine profile answers it.

``"vllm"``, ``"sglang"``, ``"trtllm"`` (a name alone: that engine's newest profile),
``"vllm==0.19.0"`` or the profile id ``"vllm-0.19.0"``; absent: the catalog's default.
"""

from __future__ import annotations

from typing import Any

from service.domain.engine import EngineCatalog, EngineProfile, UnknownEngine
from service.domain.engines.knobs import KNOBS, engines_with, foreign_knobs
from service.planning.errors import EngineSettingNotAccepted, UnknownEngineName


def resolve_engine(engines: EngineCatalog, requested: str | None) -> EngineProfile:
    """The profile a question names; :class:`UnknownEngineName` (400, field ``engine``)
    listing the accepted values otherwise."""
    try:
        return engines.resolve(requested)
    except UnknownEngine as exc:
        raise UnknownEngineName(exc.requested, exc.known) from None


def engine_settings(request: object, profile: EngineProfile) -> dict[str, Any]:
    """The engine knobs ``request`` sets (its fields named like
    :data:`service.domain.engines.knobs.KNOBS`, not ``None``), as ``Deployment`` fields.

    A knob ``profile``'s engine does not have raises :class:`EngineSettingNotAccepted`
    (400 naming the field, the engine and the engines that have it).
    """
    given = {name: getattr(request, name, None) for name in sorted(KNOBS)}
    foreign = foreign_knobs(profile, given)
    if foreign:
        raise EngineSettingNotAccepted(foreign[0], profile.spec, engines_with(foreign[0]))
    return {name: value for name, value in given.items() if value is not None}
