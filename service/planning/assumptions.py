"""The engine profile and latency calibration a question is answered with."""

from __future__ import annotations

import msgspec

from service.domain.calibration import Calibration
from service.domain.engine import EngineCatalog, EngineProfile


class Assumptions(msgspec.Struct, frozen=True, kw_only=True):
    """What every answer assumes beyond the question: how the engine spends memory
    (``engine``), how efficiently the GPUs run (``calibration``) and what they cost
    (``prices``, over the catalog's list prices)."""

    engine: EngineProfile
    calibration: Calibration
    # Every engine profile, for questions that name one (``engine sglang``); None: only
    # ``engine`` is known.
    engines: EngineCatalog | None = None
    # USD per GPU-hour over the catalog's list prices (the deployment's CAPPLAN_PRICES_FILE).
    prices: dict[str, float] = msgspec.field(default_factory=dict)
