"""``GET /v1/engines``: the engine profiles a question can name, with their sources."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from service.domain.engine import EngineCatalog, EngineProfile


class EngineOut(msgspec.Struct, frozen=True, kw_only=True):
    """One profile: how to name it, how it sizes the KV cache, and where that comes from."""

    id: str
    engine: str
    version: str
    request_as: str
    kind: str
    released: str
    default: bool
    newest_of_engine: bool
    accounting: str
    sources: list[str]
    read_off_logs: list[str]
    validated_against: list[str]


class EnginesResponse(msgspec.Struct, frozen=True, kw_only=True):
    default: str
    engines: list[EngineOut]


def _out(profile: EngineProfile, catalog: EngineCatalog) -> EngineOut:
    return EngineOut(
        id=profile.id,
        engine=profile.name,
        version=profile.version,
        request_as=profile.spec,
        kind=profile.kind,
        released=profile.released,
        default=profile.id == catalog.default,
        newest_of_engine=catalog.resolve(profile.name).id == profile.id,
        accounting=profile.accounting.strip(),
        sources=list(profile.sources),
        read_off_logs=list(profile.fitted),
        validated_against=list(profile.validated_against),
    )


class EngineController(Controller):
    path = "/v1/engines"
    tags = ["catalog"]

    @get("/", summary="Engine profiles (name them in the 'engine' field of a question)")
    async def list_engines(self, engine_catalog: NamedDependency[EngineCatalog]) -> EnginesResponse:
        """Every profile, newest first within each engine; ``validated_against`` names the
        start-up logs (catalog/reference) each is checked on by ``capplan validate``."""
        profiles = sorted(
            engine_catalog.profiles.values(),
            key=lambda p: (p.name, [-part for part in _version(p.version)]),
        )
        return EnginesResponse(
            default=engine_catalog.default,
            engines=[_out(p, engine_catalog) for p in profiles],
        )


def _version(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())
