"""The engine profile and latency calibration a question is answered with."""

from __future__ import annotations

import msgspec

from service.domain.calibration import Calibration
from service.domain.engine import EngineProfile


class Assumptions(msgspec.Struct, frozen=True, kw_only=True):
    """What every answer assumes beyond the question: how the engine spends memory
    (``engine``) and how efficiently the GPUs run (``calibration``)."""

    engine: EngineProfile
    calibration: Calibration
