"""Efficiency factors fitted to measurements, and applying them (pure: no I/O).

The roofline (:mod:`service.domain.latency`) leaves these numbers to the real world: the
fraction of peak bandwidth a decode step reaches (``decode_mbu``), of peak FLOP/s in decode
and in prefill (``decode_mfu``, ``prefill_mfu``), fixed costs per forward pass
(``step_overhead_ms``, ``layer_overhead_us``) and the routed experts' grouped-GEMM
half-efficiency point (``moe_half_tokens``, :mod:`service.domain.moe`). They are fitted by
least squares on log errors::

    minimise  Σ_i ln(pred_i(θ) / measured_i)²  +  λ · Σ_g Σ_k (ln f_gk − ln f_k)²

in two stages. (1) One shared set ``f_k`` and the overhead over every measurement.
(2) Per GPU ``g`` its three factors ``f_gk`` on that GPU's measurements, pulled towards the
shared ones with weight ``λ`` (ridge shrinkage, so a GPU with two measurements does not
fit them exactly). (3) The same per architecture generation (major CUDA compute
capability; for other vendors the vendor, :func:`gpu_generation`) over that generation's
GPUs: a GPU with no data of its own borrows its generation's factors, and only a GPU of
an unmeasured generation gets the shared ones. The fixed costs and the collectives'
per-message latency and share of the link bandwidth (``all_reduce_latency_us``,
``link_efficiency``) stay shared: they are the engine's and its communication library's,
not the chip's. Prefill reads its weights at ``decode_mbu``. Each stage is cyclic
coordinate descent with golden-section line searches in log space, bounded to
``[0.05, 1]`` (the others by :data:`OVERHEADS`), and a pattern move after each sweep —
deterministic.
There are no per-model factors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import msgspec

from service.domain.confidence import ErrorBands
from service.domain.gpu import GpuSpec
from service.domain.latency import Efficiency
from service.domain.moe import MAX_TILE_ROWS

FACTORS: tuple[str, ...] = ("decode_mbu", "decode_mfu", "prefill_mfu")
FACTOR_BOUNDS = (math.log(0.05), 0.0)
OVERHEADS: dict[str, tuple[float, float]] = {
    "step_overhead_ms": (0.0, 20.0),
    "layer_overhead_us": (0.0, 200.0),
    # Above one kernel tile the waste describes no kernel (service.domain.moe).
    "moe_half_tokens": (0.0, MAX_TILE_ROWS),
    # A collective's time is α + bytes/(η·B_link) (NCCL tests doc/PERFORMANCE.md): the
    # per-message latency α and the share η of the link's bandwidth are both fitted.
    "all_reduce_latency_us": (0.0, 100.0),
    "link_efficiency": (0.05, 1.0),
}
_GOLDEN = (math.sqrt(5) - 1) / 2


class Observation(msgspec.Struct, frozen=True, kw_only=True):
    """One measurement: its GPU, value and how the model predicts it from efficiencies."""

    id: str
    gpu: str
    measured: float
    predict: Callable[[Efficiency], float]
    generation: str = ""


class GpuFactors(msgspec.Struct, frozen=True, kw_only=True):
    """Fitted factors of one GPU and the measurements they rest on."""

    decode_mbu: float
    decode_mfu: float
    prefill_mfu: float
    points: tuple[str, ...]


class Calibration(msgspec.Struct, frozen=True, kw_only=True):
    """Shared factors, per-GPU factors and where they came from."""

    shared: Efficiency
    gpus: dict[str, GpuFactors]
    shrinkage: float
    generations: dict[str, GpuFactors] = msgspec.field(default_factory=dict)
    fitted_on: str = ""
    script: str = ""
    data: tuple[str, ...] = ()
    bands: ErrorBands | None = None


def gpu_generation(compute_capability: str | None, vendor: str = "nvidia") -> str:
    """The group a GPU's factors may be borrowed within: for NVIDIA the major CUDA compute
    capability (``"9.0"`` -> ``"sm9"``: Hopper; empty when unknown); for any other vendor
    the vendor itself (``"amd"``): its GPUs share one software stack (ROCm, hipBLASLt,
    RCCL, the engines' ROCm kernels), whose fixed costs and reach of peak differ more from
    CUDA's than one of its chips from another."""
    vendor = vendor.strip().lower()
    if vendor != "nvidia":
        return vendor
    if not compute_capability:
        return ""
    return f"sm{compute_capability.split('.')[0]}"


def efficiency_for(calibration: Calibration, gpu_id: str, generation: str = "") -> Efficiency:
    """The factors to price ``gpu_id`` with: its own if calibrated, else those fitted to its
    generation's GPUs (:func:`gpu_generation`), else the shared fit."""
    shared = calibration.shared
    own = calibration.gpus.get(gpu_id)
    factors = own or calibration.generations.get(generation)
    if factors is None:
        return msgspec.structs.replace(
            shared, source=f"{shared.source}: shared factors, none measured on this GPU"
        )
    whose = (
        "this GPU's own factors"
        if own
        else (f"factors of its generation ({generation}), none measured on this GPU")
    )
    return msgspec.structs.replace(
        apply_factors(shared, (factors.decode_mbu, factors.decode_mfu, factors.prefill_mfu)),
        source=f"{shared.source}: {whose}",
    )


def efficiency_for_gpu(calibration: Calibration, gpu: GpuSpec) -> Efficiency:
    """:func:`efficiency_for` a catalog GPU, its generation read off its compute capability
    and vendor (:func:`gpu_generation`)."""
    return efficiency_for(calibration, gpu.id, gpu_generation(gpu.compute_capability, gpu.vendor))


def is_calibrated(calibration: Calibration, gpu_id: str) -> bool:
    """Whether ``gpu_id`` has factors fitted to its own measurements."""
    return gpu_id in calibration.gpus


def apply_factors(base: Efficiency, factors: Sequence[float]) -> Efficiency:
    """``base`` with decode MBU (also prefill MBU), decode MFU and prefill MFU replaced."""
    mbu, decode_mfu, prefill_mfu = factors
    return msgspec.structs.replace(
        base, decode_mbu=mbu, prefill_mbu=mbu, decode_mfu=decode_mfu, prefill_mfu=prefill_mfu
    )


def log_errors(observations: Iterable[Observation], efficiency: Efficiency) -> list[float]:
    """``ln(pred/measured)`` for each observation."""
    return [math.log(o.predict(efficiency) / o.measured) for o in observations]


def _golden(objective: Callable[[float], float], low: float, high: float, tol: float) -> float:
    """Minimiser of a unimodal ``objective`` on ``[low, high]`` to within ``tol``."""
    a, b = low, high
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = objective(c), objective(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = objective(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = objective(d)
    return (a + b) / 2


def _descend(
    objective: Callable[[list[float]], float],
    start: list[float],
    bounds: Sequence[tuple[float, float]],
    sweeps: int,
) -> list[float]:
    """Cyclic coordinate descent; keeps a coordinate's old value if the search is worse.

    Stops after ``sweeps`` sweeps, or at the first sweep that moves nothing (every later one
    would search from the same point and move nothing either).

    After each sweep a line search runs along the sweep's net move (a pattern move, as in
    Powell's method), inside the bounds: coordinates that trade off against each other
    (a per-layer cost against a per-message latency) lie in a narrow valley that single
    coordinates cross in many short steps.
    """
    x = list(start)
    best = objective(x)
    for _ in range(sweeps):
        before = x.copy()
        for i, (low, high) in enumerate(bounds):

            def along(value: float, i: int = i) -> float:
                trial = x.copy()
                trial[i] = value
                return objective(trial)

            candidate = _golden(along, low, high, 1e-4 * (high - low))
            value = along(candidate)
            if value < best:
                x[i], best = candidate, value
        moved, best = _pattern_move(objective, before, x, best, bounds)
        x[:] = moved
        if x == before:  # a sweep from the same point repeats itself exactly: done
            break
    return x


def _pattern_move(
    objective: Callable[[list[float]], float],
    before: list[float],
    after: list[float],
    best: float,
    bounds: Sequence[tuple[float, float]],
) -> tuple[list[float], float]:
    """The best point on ``after + t·(after − before)``, ``t`` in [0, t_max] with ``t_max``
    the largest step that stays inside ``bounds``; ``after`` if none is better."""
    step = [a - b for a, b in zip(after, before, strict=True)]
    reach = math.inf
    for value, move, (low, high) in zip(after, step, bounds, strict=True):
        if move > 0:
            reach = min(reach, (high - value) / move)
        elif move < 0:
            reach = min(reach, (low - value) / move)
    if not 0 < reach < math.inf:
        return after, best
    reach = min(reach, 16.0)

    def point(t: float) -> list[float]:
        return [a + t * m for a, m in zip(after, step, strict=True)]

    t = _golden(lambda t: objective(point(t)), 0.0, reach, 1e-4 * reach)
    value = objective(point(t))
    return (point(t), value) if value < best else (after, best)


def _shared(base: Efficiency, x: Sequence[float]) -> Efficiency:
    """``x`` = three log factors, then the overheads in :data:`OVERHEADS` order."""
    overheads = dict(zip(OVERHEADS, x[3:], strict=True))
    return msgspec.structs.replace(apply_factors(base, [math.exp(v) for v in x[:3]]), **overheads)


def fit(
    observations: Sequence[Observation],
    *,
    base: Efficiency,
    shrinkage: float,
    sweeps: int = 16,
) -> Calibration:
    """The two-stage fit of the module doc (``base`` supplies start values and α)."""
    start = [math.log(getattr(base, name)) for name in FACTORS]
    start += [getattr(base, name) for name in OVERHEADS]
    bounds = [FACTOR_BOUNDS] * 3 + list(OVERHEADS.values())

    def shared_misfit(x: list[float]) -> float:
        return sum(r * r for r in log_errors(observations, _shared(base, x)))

    x = _descend(shared_misfit, start, bounds, sweeps)
    shared = msgspec.structs.replace(
        _shared(base, x), source="calibrated: shared factors (all GPUs)"
    )
    anchor = x[:3]
    by_gpu: dict[str, list[Observation]] = {}
    by_generation: dict[str, list[Observation]] = {}
    for o in observations:
        by_gpu.setdefault(o.gpu, []).append(o)
        if o.generation:
            by_generation.setdefault(o.generation, []).append(o)
    return Calibration(
        shared=shared,
        gpus=_grouped(by_gpu, shared, anchor, shrinkage, sweeps),
        generations=_grouped(by_generation, shared, anchor, shrinkage, sweeps),
        shrinkage=shrinkage,
        data=tuple(o.id for o in observations),
    )


def _grouped(
    groups: Mapping[str, list[Observation]],
    shared: Efficiency,
    anchor: Sequence[float],
    shrinkage: float,
    sweeps: int,
) -> dict[str, GpuFactors]:
    """Stage (2) of the module doc for each group (one GPU, or one generation's GPUs)."""
    fitted: dict[str, GpuFactors] = {}
    for name, points in sorted(groups.items()):

        def objective(y: list[float], points: list[Observation] = points) -> float:
            eff = apply_factors(shared, [math.exp(v) for v in y])
            misfit = sum(r * r for r in log_errors(points, eff))
            return misfit + shrinkage * sum((a - b) ** 2 for a, b in zip(y, anchor, strict=True))

        y = _descend(objective, list(anchor), [FACTOR_BOUNDS] * 3, sweeps)
        mbu, decode_mfu, prefill_mfu = (math.exp(v) for v in y)
        fitted[name] = GpuFactors(
            decode_mbu=mbu,
            decode_mfu=decode_mfu,
            prefill_mfu=prefill_mfu,
            points=tuple(o.id for o in points),
        )
    return fitted


def _bands_document(bands: ErrorBands | None) -> dict[str, object] | None:
    if bands is None:
        return None
    return {
        scope: {
            group: {
                "low": round(b.low, 4),
                "high": round(b.high, 4),
                "coverage": b.coverage,
                "basis": b.basis,
            }
            for group, b in table.items()
        }
        for scope, table in (("calibrated", bands.calibrated), ("extrapolated", bands.extrapolated))
    }


def calibration_document(calibration: Calibration) -> dict[str, object]:
    """The YAML-ready form of a calibration (rounded for a stable, readable file)."""
    shared = calibration.shared
    return {
        "fitted_on": calibration.fitted_on,
        "script": calibration.script,
        "shrinkage": calibration.shrinkage,
        "shared": {
            "decode_mbu": round(shared.decode_mbu, 4),
            "decode_mfu": round(shared.decode_mfu, 4),
            "prefill_mfu": round(shared.prefill_mfu, 4),
            "step_overhead_ms": round(shared.step_overhead_ms, 4),
            "layer_overhead_us": round(shared.layer_overhead_us, 3),
            "moe_half_tokens": round(shared.moe_half_tokens, 2),
            "link_efficiency": round(shared.link_efficiency, 4),
            "all_reduce_latency_us": round(shared.all_reduce_latency_us, 3),
        },
        "gpus": {
            gpu: {
                "decode_mbu": round(f.decode_mbu, 4),
                "decode_mfu": round(f.decode_mfu, 4),
                "prefill_mfu": round(f.prefill_mfu, 4),
                "points": list(f.points),
            }
            for gpu, f in calibration.gpus.items()
        },
        "generations": {
            name: {
                "decode_mbu": round(f.decode_mbu, 4),
                "decode_mfu": round(f.decode_mfu, 4),
                "prefill_mfu": round(f.prefill_mfu, 4),
                "points": list(f.points),
            }
            for name, f in calibration.generations.items()
        },
        "error_bands": _bands_document(calibration.bands),
        "data": list(calibration.data),
    }


def calibration_from_document(document: Mapping[str, object]) -> Calibration:
    """Parse :func:`calibration_document`'s form back (from ``catalog/calibration.yaml``)."""
    raw = msgspec.convert(document, _CalibrationFile)
    shared = Efficiency(
        decode_mbu=raw.shared.decode_mbu,
        prefill_mbu=raw.shared.decode_mbu,
        decode_mfu=raw.shared.decode_mfu,
        prefill_mfu=raw.shared.prefill_mfu,
        step_overhead_ms=raw.shared.step_overhead_ms,
        layer_overhead_us=raw.shared.layer_overhead_us,
        moe_half_tokens=raw.shared.moe_half_tokens,
        link_efficiency=raw.shared.link_efficiency,
        all_reduce_latency_us=raw.shared.all_reduce_latency_us,
        source=f"calibrated ({raw.script}, {raw.fitted_on})",
    )
    gpus = {
        gpu: GpuFactors(
            decode_mbu=f.decode_mbu,
            decode_mfu=f.decode_mfu,
            prefill_mfu=f.prefill_mfu,
            points=tuple(f.points),
        )
        for gpu, f in raw.gpus.items()
    }
    generations = {
        name: GpuFactors(
            decode_mbu=f.decode_mbu,
            decode_mfu=f.decode_mfu,
            prefill_mfu=f.prefill_mfu,
            points=tuple(f.points),
        )
        for name, f in raw.generations.items()
    }
    return Calibration(
        shared=shared,
        gpus=gpus,
        generations=generations,
        shrinkage=raw.shrinkage,
        fitted_on=raw.fitted_on,
        script=raw.script,
        data=tuple(raw.data),
        bands=raw.error_bands,
    )


class _SharedFile(msgspec.Struct, frozen=True):
    decode_mbu: float
    decode_mfu: float
    prefill_mfu: float
    step_overhead_ms: float
    layer_overhead_us: float
    all_reduce_latency_us: float
    moe_half_tokens: float = 0.0
    link_efficiency: float = 1.0


class _GpuFile(msgspec.Struct, frozen=True):
    decode_mbu: float
    decode_mfu: float
    prefill_mfu: float
    points: list[str]


class _CalibrationFile(msgspec.Struct, frozen=True):
    fitted_on: str
    script: str
    shrinkage: float
    shared: _SharedFile
    gpus: dict[str, _GpuFile]
    data: list[str]
    generations: dict[str, _GpuFile] = msgspec.field(default_factory=dict)
    error_bands: ErrorBands | None = None
