"""The back-test: fit, leave-one-out, and per-metric error summaries.

One code path serves ``bench/calibrate.py`` (which writes ``catalog/calibration.yaml``),
``capplan validate`` (the report) and ``tests/accuracy`` (the targets):

* cases: every ``latency.json`` row and every record of our H200 PyTorch reference run;
* in-sample: each case priced with the factors in ``catalog/calibration.yaml``;
* held-out: each case priced by a fit to all the *other* cases (leave-one-out);
* ``reference_only_fit``: the H200 reference priced by a fit to ``latency.json`` alone
  (the reference as pure validation of the roofline, never seen by the fit).

The H200 reference takes part in the fit because it measures exactly what the factors mean
(achieved fractions of peak bandwidth and FLOP/s, `bench/gpu_roofline.py`); leaving it out
is reported alongside.
"""

from __future__ import annotations

import datetime
import statistics
from collections.abc import Callable, Sequence

import msgspec

from service.catalog_files import load_engine_profiles
from service.domain.calibration import (
    Calibration,
    Observation,
    efficiency_for,
    fit,
    leave_gpu_out,
    leave_one_out,
)
from service.domain.confidence import Band, ErrorBands, band_from_ratios
from service.domain.latency import Efficiency
from service.validation.cases import (
    SATURATED_ENGINE,
    Case,
    Metric,
    latency_case,
    predict,
    roofline_case,
)
from service.validation.memory_check import KvCheck, check_kv_capacity
from service.validation.reference import ReferenceData

SHRINKAGE = 1.0
"""Ridge weight pulling per-GPU factors to the shared ones (chosen by leave-one-out)."""

START = Efficiency()
"""Start values of the fit (the uncalibrated defaults) and the fixed all-reduce latency."""

CALIBRATION_SCRIPT = "bench/calibrate.py"

TARGET_GROUPS: dict[str, tuple[Metric, ...]] = {
    "decode time per token": (Metric.DECODE_STEP, Metric.E2E_LATENCY),
    "saturated throughput": (Metric.SATURATED_THROUGHPUT,),
    "prefill time": (Metric.PREFILL,),
}
"""Summary groups: NeMo end-to-end rows are decode-dominated (20 output tokens after a
128-token prompt), so their error is the error of the time per output token."""

TARGETS: dict[str, float] = {"decode time per token": 15.0, "saturated throughput": 25.0}
"""Median absolute % error the held-out predictions must stay within."""


class CaseResult(msgspec.Struct, frozen=True, kw_only=True):
    case: Case
    in_sample: float
    held_out: float

    @property
    def in_sample_error_pct(self) -> float:
        return (self.in_sample / self.case.measured - 1) * 100

    @property
    def held_out_error_pct(self) -> float:
        return (self.held_out / self.case.measured - 1) * 100


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    group: str
    dataset: str
    count: int
    in_sample_median: float
    in_sample_mean: float
    held_out_median: float
    held_out_mean: float
    target: float | None


class Validation(msgspec.Struct, frozen=True, kw_only=True):
    kv: list[KvCheck]
    results: list[CaseResult]
    summaries: list[Summary]
    calibration: Calibration
    reference_only: dict[str, float]


def build_cases(reference: ReferenceData) -> list[Case]:
    """Every latency measurement, published rows first, then the H200 reference."""
    batching = load_engine_profiles().batching[SATURATED_ENGINE]
    cases = [latency_case(point, batching) for point in reference.latency]
    cases += [roofline_case(record, reference.roofline_gpu) for record in reference.roofline]
    return cases


def observations(cases: Sequence[Case]) -> list[Observation]:
    return [
        Observation(id=c.id, gpu=c.gpu, measured=c.measured, predict=_predictor(c)) for c in cases
    ]


def _predictor(case: Case) -> Callable[[Efficiency], float]:
    def predict_case(efficiency: Efficiency) -> float:
        return predict(case, efficiency)

    return predict_case


KV_TOLERANCE = 0.02
"""The engine memory model is held to ±2 % of logged KV capacity; its band is never narrower."""


def kv_checks(reference: ReferenceData) -> list[KvCheck]:
    engines = load_engine_profiles()
    return [check_kv_capacity(point, engines) for point in reference.vllm_memory]


def error_bands(
    cases: Sequence[Case],
    kv: Sequence[KvCheck],
    held_out: dict[str, float],
    gpu_out: dict[str, float],
) -> ErrorBands:
    """Bands per group from held-out ratios (module doc of :mod:`service.domain.confidence`)."""
    ratios = [c.measured_tokens / c.predicted_tokens for c in kv]
    kv_band = Band(
        low=min(1 - KV_TOLERANCE, *ratios),
        high=max(1 + KV_TOLERANCE, *ratios),
        coverage=1.0,
        basis=f"{len(kv)} vLLM start-up logs (worst error, at least ±{KV_TOLERANCE:.0%})",
    )
    tables: list[dict[str, Band]] = []
    for predictions, how in ((held_out, "leave-one-out"), (gpu_out, "leave-one-GPU-out")):
        table = {"kv capacity": kv_band}
        for group, metrics in TARGET_GROUPS.items():
            members = [c for c in cases if c.metric in metrics]
            table[group] = band_from_ratios(
                [c.measured / predictions[c.id] for c in members],
                basis=f"{len(members)} {how} back-test predictions",
            )
        tables.append(table)
    return ErrorBands(calibrated=tables[0], extrapolated=tables[1])


def calibrate(
    cases: Sequence[Case], kv: Sequence[KvCheck], today: datetime.date | None = None
) -> Calibration:
    """The fit ``bench/calibrate.py`` writes: factors, back-test bands, date and script."""
    obs = observations(cases)
    calibration = fit(obs, base=START, shrinkage=SHRINKAGE)
    held_out = leave_one_out(obs, base=START, shrinkage=SHRINKAGE)
    gpu_out = leave_gpu_out(obs, base=START, shrinkage=SHRINKAGE)
    stamp = (today or datetime.datetime.now(tz=datetime.UTC).date()).isoformat()
    return msgspec.structs.replace(
        calibration,
        fitted_on=stamp,
        script=CALIBRATION_SCRIPT,
        bands=error_bands(cases, kv, held_out, gpu_out),
    )


def _median_mean(errors: Sequence[float]) -> tuple[float, float]:
    absolute = [abs(e) for e in errors]
    return statistics.median(absolute), statistics.fmean(absolute)


def summarise(results: Sequence[CaseResult]) -> list[Summary]:
    """Per target group: all datasets together, then each dataset on its own."""
    summaries = []
    for group, metrics in TARGET_GROUPS.items():
        members = [r for r in results if r.case.metric in metrics]
        datasets = sorted({r.case.dataset for r in members})
        scopes = [("all", members)]
        if len(datasets) > 1:
            scopes += [(d, [r for r in members if r.case.dataset == d]) for d in datasets]
        for dataset, scoped in scopes:
            if not scoped:
                continue
            in_median, in_mean = _median_mean([r.in_sample_error_pct for r in scoped])
            out_median, out_mean = _median_mean([r.held_out_error_pct for r in scoped])
            summaries.append(
                Summary(
                    group=group,
                    dataset=dataset,
                    count=len(scoped),
                    in_sample_median=in_median,
                    in_sample_mean=in_mean,
                    held_out_median=out_median,
                    held_out_mean=out_mean,
                    target=TARGETS.get(group) if dataset == "all" else None,
                )
            )
    return summaries


def validate(reference: ReferenceData, calibration: Calibration) -> Validation:
    """KV checks, in-sample and held-out predictions, summaries (module doc)."""
    kv = kv_checks(reference)
    cases = build_cases(reference)
    held_out = leave_one_out(observations(cases), base=START, shrinkage=SHRINKAGE)
    results = [
        CaseResult(
            case=c,
            in_sample=predict(c, efficiency_for(calibration, c.gpu)),
            held_out=held_out[c.id],
        )
        for c in cases
    ]
    published = [c for c in cases if c.dataset == "latency.json"]
    published_fit = fit(observations(published), base=START, shrinkage=SHRINKAGE)
    reference_only = {
        c.id: predict(c, efficiency_for(published_fit, c.gpu))
        for c in cases
        if c.dataset != "latency.json"
    }
    return Validation(
        kv=kv,
        results=results,
        summaries=summarise(results),
        calibration=calibration,
        reference_only=reference_only,
    )
