"""How far to trust an answer: a provenance label and an error band from the back-test.

Labels, from most to least certain:

* ``exact`` — arithmetic on the config with no engine or hardware assumption (parameter
  counts, weight bytes, KV bytes per token). Band: the value itself.
* ``engine-model`` — the engine's start-up memory accounting (KV capacity, max batch),
  checked against vLLM logs (``docs/validation.md``). Band: the worst logged error, at
  least the ±2 % the model is held to.
* ``calibrated-estimate`` — latency/throughput priced with factors fitted to the GPU's own
  measurements (``catalog/calibration.yaml``).
* ``extrapolated`` — latency/throughput on a GPU without its own measurements (shared
  factors), or far outside the measured conditions.

Bands for estimates come from held-out errors (``bench/calibrate.py``): with the ratios
``r_i = measured_i / predicted_i`` of held-out predictions (leave-one-model-out for
calibrated GPUs, leave-one-GPU-out for extrapolation), the band is the central ``coverage``
interval::

    [value · min(1, q_(1−c)/2(r)),  value · max(1, q_(1+c)/2(r))]

(linear-interpolated empirical quantiles, c = 0.8 by default), so it always contains the
value. A band says where the measured value fell for comparable back-test predictions.

TTFT errors differ by serving engine (published SGLang sweeps run well behind the priced
steady state, TensorRT-LLM ones close to it), so the back-test also keeps a TTFT band per
engine kind (``prefill time (sglang)``, :func:`engine_group`) where it has enough rows of
that engine; :func:`assess` uses it for an answer on that kind of engine, else the shared
``prefill time`` band.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from typing import Annotated

import msgspec


class Provenance(enum.StrEnum):
    EXACT = "exact"
    ENGINE_MODEL = "engine-model"
    CALIBRATED = "calibrated-estimate"
    EXTRAPOLATED = "extrapolated"


class Quantity(enum.StrEnum):
    """What an answer is; decides its label and which back-test band applies."""

    PARAMETERS = "parameters"
    WEIGHT_BYTES = "weight_bytes"
    KV_BYTES_PER_TOKEN = "kv_bytes_per_token"  # noqa: S105 - a quantity name, not a secret
    KV_CAPACITY = "kv_capacity"
    MAX_BATCH = "max_batch"
    TTFT = "ttft_ms"
    TPOT = "tpot_ms"
    E2E = "e2e_ms"
    THROUGHPUT = "output_tokens_per_s"


EXACT_QUANTITIES = frozenset(
    {Quantity.PARAMETERS, Quantity.WEIGHT_BYTES, Quantity.KV_BYTES_PER_TOKEN}
)
ENGINE_QUANTITIES = frozenset({Quantity.KV_CAPACITY, Quantity.MAX_BATCH})
BAND_GROUP: Mapping[Quantity, str] = {
    Quantity.TTFT: "prefill time",
    Quantity.TPOT: "decode time per token",
    Quantity.E2E: "decode time per token",
    Quantity.THROUGHPUT: "saturated throughput",
    Quantity.KV_CAPACITY: "kv capacity",
    Quantity.MAX_BATCH: "kv capacity",
}
"""The back-test group whose errors bound each quantity (E2E is decode-dominated)."""

ENGINE_BANDED = frozenset({Quantity.TTFT})
"""Quantities whose band may be the answer's engine kind's own (:func:`engine_group`)."""


def engine_group(group: str, engine_kind: str) -> str:
    """The name of ``group``'s band for one engine kind, e.g. ``prefill time (sglang)``
    (``kind`` of ``catalog/engines.yaml``: vllm-v0, vllm-v1, sglang, trtllm)."""
    return f"{group} ({engine_kind})"


class Band(msgspec.Struct, frozen=True, kw_only=True):
    """Multiplicative band: the truth lay within ``[low, high] × value`` in the back-test."""

    low: float
    high: float
    coverage: float
    basis: str


class ErrorBands(msgspec.Struct, frozen=True, kw_only=True):
    """Per group: the band when the GPU is calibrated, and when it is extrapolated."""

    calibrated: dict[str, Band]
    extrapolated: dict[str, Band]


class Assessed(msgspec.Struct, frozen=True, kw_only=True):
    """An answer with its label and expected range (e.g. tpot 21.4 ms, 18-25 ms)."""

    value: Annotated[
        float, msgspec.Meta(description="The estimate, in the unit of the field it stands for")
    ]
    provenance: Annotated[
        Provenance,
        msgspec.Meta(
            description=(
                "How it was obtained: exact, engine-model, calibrated-estimate or extrapolated"
            )
        ),
    ]
    low: Annotated[float, msgspec.Meta(description="Low end of the expected range, same unit")]
    high: Annotated[float, msgspec.Meta(description="High end of the expected range, same unit")]
    coverage: Annotated[
        float,
        msgspec.Meta(description="Share of back-test points that fell inside such a range, 0-1"),
    ]
    basis: Annotated[str, msgspec.Meta(description="What the range rests on (the back-test data)")]


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated empirical quantile (numpy's default 'linear' method)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = q * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def band_from_ratios(ratios: Sequence[float], coverage: float = 0.8, basis: str = "") -> Band:
    """The central ``coverage`` interval of ``measured/predicted`` ratios, containing 1."""
    tail = (1 - coverage) / 2
    return Band(
        low=min(1.0, quantile(ratios, tail)),
        high=max(1.0, quantile(ratios, 1 - tail)),
        coverage=coverage,
        basis=basis or f"{len(ratios)} held-out back-test predictions",
    )


def provenance(quantity: Quantity, *, calibrated: bool) -> Provenance:
    """The label of an answer: exact, engine model, or a calibrated/extrapolated estimate."""
    if quantity in EXACT_QUANTITIES:
        return Provenance.EXACT
    if quantity in ENGINE_QUANTITIES:
        return Provenance.ENGINE_MODEL
    return Provenance.CALIBRATED if calibrated else Provenance.EXTRAPOLATED


def assess(
    value: float,
    quantity: Quantity,
    *,
    calibrated: bool,
    bands: ErrorBands,
    engine_kind: str | None = None,
) -> Assessed:
    """Label ``value`` and give its expected range from the back-test (module doc).

    ``calibrated``: whether the GPU (and phase) has its own fitted factors
    (:func:`service.domain.calibration.is_calibrated`). ``engine_kind``: the ``kind`` of
    the engine profile the answer is for; a TTFT takes that kind's band when the table has
    one, else the shared group's. Exact answers get a zero-width band; a group with no band
    yet gets the value itself with coverage 0.
    """
    label = provenance(quantity, calibrated=calibrated)
    if label is Provenance.EXACT:
        return Assessed(value=value, provenance=label, low=value, high=value, coverage=1.0,
                        basis="exact arithmetic")  # fmt: skip
    table = bands.extrapolated if label is Provenance.EXTRAPOLATED else bands.calibrated
    group = BAND_GROUP[quantity]
    band = table.get(group)
    if engine_kind and quantity in ENGINE_BANDED:
        band = table.get(engine_group(group, engine_kind), band)
    if band is None:
        return Assessed(value=value, provenance=label, low=value, high=value, coverage=0.0,
                        basis="no back-test for this quantity")  # fmt: skip
    low, high = sorted((value * band.low, value * band.high))
    return Assessed(
        value=value,
        provenance=label,
        low=min(low, value),
        high=max(high, value),
        coverage=band.coverage,
        basis=band.basis,
    )
