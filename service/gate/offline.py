"""The offline backend: the bundled catalog and the domain arithmetic, in-process.

Answers what ``/v1/max-batch``, ``/v1/latency`` and ``/v1/plan`` would for the same catalog,
without a server, a database or a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from service.catalog_files import default_calibration, default_engine_profile, engine_catalog
from service.contract.schemas import (
    InlineModel,
    LatencyRequest,
    LatencyResponse,
    MaxBatchRequest,
    MaxBatchResponse,
    ModelRef,
    PlanRequest,
    PlanResponse,
)
from service.db.seed_loader import SeedCatalog, SeedError, load_catalog
from service.db.seed_schema import GpuSeed
from service.domain.architecture import Architecture, InvalidConfig, UnsupportedArchitecture
from service.domain.engine import EngineCatalog, EngineProfile
from service.domain.gpu import GpuSpec
from service.domain.hf_config import architecture_from_config
from service.domain.parameters import ParameterCount, count_parameters
from service.gate.backend import Rejected, Unavailable
from service.planning.answers import answer_latency, answer_max_batch, answer_plan, layout_problem
from service.planning.engines import resolve_engine
from service.planning.errors import PlanningError
from service.planning.prices import PriceList, priced, priced_all
from service.prices_file import PricesFileError, load_prices

_GPU_FIELDS = frozenset(field.name for field in msgspec.structs.fields(GpuSpec))


def gpu_spec(seed: GpuSeed) -> GpuSpec:
    """The domain's view of a seed GPU (the fields the two share)."""
    values = msgspec.structs.asdict(seed)
    return GpuSpec(**{name: value for name, value in values.items() if name in _GPU_FIELDS})


def normalise(config: Mapping[str, Any], name: str) -> tuple[Architecture, ParameterCount]:
    """An inline config as the API reads it; malformed or unmodelled is :class:`Rejected`."""
    try:
        arch = architecture_from_config(config)
    except InvalidConfig as exc:
        raise Rejected(f"hf_config: {exc}") from exc
    except UnsupportedArchitecture as exc:
        raise Rejected(f"{name}: {exc}") from exc
    return arch, count_parameters(arch)


class OfflineBackend:
    """Answers from a loaded :class:`SeedCatalog`; GPUs are kept in id order, like the API."""

    label = "offline"

    def __init__(
        self,
        catalog: SeedCatalog,
        profile: EngineProfile | None = None,
        engines: EngineCatalog | None = None,
        prices: PriceList | None = None,
    ) -> None:
        self.profile = profile or default_engine_profile()
        self.engines = engines
        seeds = sorted(catalog.gpus, key=lambda g: g.id)
        self.gpus = {seed.id: priced(gpu_spec(seed), prices or {}) for seed in seeds}
        self.models = {e.seed.repo_id: (e.architecture, e.parameters) for e in catalog.models}
        self.aliases = {a: e.seed.repo_id for e in catalog.models for a in e.seed.aliases}

    @classmethod
    def from_directory(cls, catalog_dir: Path, prices_file: Path | None = None) -> OfflineBackend:
        """Load and validate ``catalog_dir`` (``gpus.yaml``, ``models/*.yaml``), at the
        deployment's prices when a ``prices_file`` (``CAPPLAN_PRICES_FILE``) is given."""
        try:
            catalog = load_catalog(catalog_dir)
        except SeedError as exc:
            raise Unavailable(f"invalid catalog in {catalog_dir}:\n{exc}") from exc
        try:
            engines = engine_catalog(catalog_dir)
        except (OSError, ValueError) as exc:
            raise Unavailable(f"invalid engines file in {catalog_dir}: {exc}") from exc
        try:
            prices = load_prices(prices_file) if prices_file is not None else None
        except PricesFileError as exc:
            raise Unavailable(str(exc)) from exc
        return cls(catalog, engines.get(), engines, prices)

    def _profile(self, requested: str | None) -> EngineProfile:
        """The profile the question's ``engine`` names (the API's rule), else the default."""
        if self.engines is None or requested is None:
            return self.profile
        try:
            return resolve_engine(self.engines, requested)
        except PlanningError as exc:
            raise Rejected(str(exc)) from exc

    def _model(self, ref: ModelRef) -> tuple[Architecture, ParameterCount]:
        if isinstance(ref, InlineModel):
            return normalise(ref.hf_config, "inline hf_config")
        if ref not in self.models:
            raise Rejected(f"model '{ref}' is not in the catalog")
        return self.models[ref]

    def _laid_out(self, ref: ModelRef, tp: int, pp: int) -> tuple[Architecture, ParameterCount]:
        arch, params = self._model(ref)
        if problem := layout_problem(arch, tp, pp):
            raise Rejected(problem.message)
        return arch, params

    def model_ids(self) -> list[str]:
        return sorted(self.models)

    def gpu_names(self) -> list[tuple[str, str]]:
        return [(gpu_id, spec.name) for gpu_id, spec in self.gpus.items()]

    def model_aliases(self) -> dict[str, str]:
        return dict(self.aliases)

    def architecture(self, model: ModelRef) -> Architecture:
        return self._model(model)[0]

    def gpu(self, gpu_id: str) -> GpuSpec:
        if gpu_id not in self.gpus:
            raise Rejected(f"GPU '{gpu_id}' is not in the catalog")
        return self.gpus[gpu_id]

    def max_batch(self, request: MaxBatchRequest) -> MaxBatchResponse:
        tp, pp = request.tensor_parallel, request.pipeline_parallel
        arch, params = self._laid_out(request.model, tp, pp)
        profile = self._profile(request.engine)
        try:
            return answer_max_batch(arch, params, self.gpu(request.gpu), request, profile)
        except PlanningError as exc:
            raise Rejected(str(exc)) from exc

    def latency(self, request: LatencyRequest) -> LatencyResponse:
        tp, pp = request.tensor_parallel, request.pipeline_parallel
        arch, params = self._laid_out(request.model, tp, pp)
        profile = self._profile(request.engine)
        try:
            return answer_latency(
                arch, params, self.gpu(request.gpu), request, profile, default_calibration()
            )
        except PlanningError as exc:
            raise Rejected(str(exc)) from exc

    def plan(self, request: PlanRequest) -> PlanResponse:
        arch, params = self._model(request.model)
        constraints = request.constraints
        ids = constraints.gpus if constraints is not None else None
        gpus = (
            list(self.gpus.values()) if ids is None else [self.gpu(i) for i in dict.fromkeys(ids)]
        )
        name = "inline hf_config" if isinstance(request.model, InlineModel) else request.model
        for gpu_id in request.prices or {}:
            self.gpu(gpu_id)
        gpus = priced_all(gpus, request.prices or {})
        profile = self._profile(request.engine)
        return answer_plan(arch, params, gpus, request, profile, name, default_calibration())
