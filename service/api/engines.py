"""``GET /v1/engines``: the engine profiles a question can name, with their sources."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from service.api.examples import answer
from service.domain.engine import EngineCatalog, EngineProfile
from service.domain.host_launch import EagerPrefill


class EngineOut(msgspec.Struct, frozen=True, kw_only=True):
    """One profile: how to name it, how it sizes the KV cache, and where that comes from."""

    id: Annotated[str, msgspec.Meta(description="Profile id (engine==version)")]
    engine: Annotated[str, msgspec.Meta(description="Engine name: vllm, sglang or trtllm")]
    version: Annotated[str, msgspec.Meta(description="Engine version the profile models")]
    request_as: Annotated[
        str, msgspec.Meta(description="What to send as 'engine' to use this profile")
    ]
    kind: Annotated[
        str, msgspec.Meta(description="Engine model the profile uses (vllm-v1, sglang, trtllm)")
    ]
    released: Annotated[str, msgspec.Meta(description="The version's release date (YYYY-MM-DD)")]
    default: Annotated[bool, msgspec.Meta(description="Whether this is the default profile")]
    newest_of_engine: Annotated[
        bool, msgspec.Meta(description="Whether a bare engine name picks this profile")
    ]
    accounting: Annotated[
        str, msgspec.Meta(description="How the profile divides GPU memory at start-up")
    ]
    sources: Annotated[
        list[str], msgspec.Meta(description="Source files and releases the profile was read off")
    ]
    read_off_logs: Annotated[
        list[str], msgspec.Meta(description="Engine logs its constants were read off")
    ]
    validated_against: Annotated[
        list[str], msgspec.Meta(description="Measurements the profile was checked against")
    ]
    eager_prefill: Annotated[
        EagerPrefill,
        msgspec.Meta(
            description=(
                "Host time per layer of a prompt step the engine runs eagerly: the least such "
                "a step takes (zeros: none modelled)"
            )
        ),
    ]


class EnginesResponse(msgspec.Struct, frozen=True, kw_only=True):
    default: Annotated[
        str, msgspec.Meta(description="Profile id used when a request names no engine")
    ]
    engines: Annotated[
        list[EngineOut], msgspec.Meta(description="Every profile, by engine and version")
    ]


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
        eager_prefill=profile.eager_prefill,
    )


class EngineController(Controller):
    path = "/v1/engines"
    tags = ["catalog"]

    @get(
        "/",
        responses=answer(EnginesResponse, "engines", "The shipped profiles"),
        summary="Engine profiles (name them in the 'engine' field of a question)",
    )
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
