"""What a planning question can be refused for, independent of how it was asked.

Each adapter maps these to its own form: the API to problem+json (``service/api/problems.py``),
the gate to an exit code and message, Slack to a reply.
"""

from __future__ import annotations

from collections.abc import Sequence


class PlanningError(Exception):
    """A question that cannot be answered as asked; ``detail`` says why for a person."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _did_you_mean(suggestions: Sequence[str]) -> str:
    return f"; did you mean {', '.join(suggestions)}?" if suggestions else ""


#: Longest id quoted back in a refusal: a catalog id is at most 200 characters.
QUOTED_ID_CHARS = 200


def quoted(name: str) -> str:
    """``name`` for a message: cut to :data:`QUOTED_ID_CHARS` (with its length) when longer,
    so a refusal never echoes an arbitrarily long id or value."""
    if len(name) <= QUOTED_ID_CHARS:
        return name
    return f"{name[:QUOTED_ID_CHARS]}… ({len(name):,} characters)"


class NotInCatalog(PlanningError):
    """An id the catalog lacks; ``suggestions`` are the nearest catalog ids. ``field`` is
    where the id sits in the question (``constraints.gpus[1]``, ``prices.l4``), set by the
    adapter that knows (:meth:`locate`); None when the id is not a field (a URL path)."""

    def __init__(self, detail: str, suggestions: Sequence[str]) -> None:
        super().__init__(detail)
        self.suggestions = list(suggestions)
        self.reason = f"not in the catalog{_did_you_mean(suggestions)}"
        self.field: str | None = None
        self.source = "body"

    def locate(self, field: str, source: str = "body") -> None:
        """Name the field the id came from, unless an inner adapter already did."""
        if self.field is None:
            self.field, self.source = field, source


class ModelNotFound(NotInCatalog):
    """A model id that is not in the catalog; ``suggestions`` are the nearest catalog ids."""

    def __init__(self, model_id: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(
            f"model '{quoted(model_id)}' is not in the catalog{_did_you_mean(suggestions)}; "
            'POST it to /v1/models, import it with POST /v1/imports, or pass {"hf_config": ...}',
            suggestions,
        )
        self.model_id = model_id


class GpuNotFound(NotInCatalog):
    """A GPU id that is not in the catalog; ``suggestions`` are the nearest catalog ids."""

    def __init__(self, gpu_id: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(
            f"GPU '{quoted(gpu_id)}' is not in the catalog{_did_you_mean(suggestions)}; "
            "GET /v1/gpus lists them",
            suggestions,
        )
        self.gpu_id = gpu_id


class InvalidModelConfig(PlanningError):
    """A model config with a malformed field; ``field`` is its path in the question (or None
    when the config came from the catalog, not from the question)."""

    def __init__(self, detail: str, *, field: str | None, reason: str) -> None:
        super().__init__(detail)
        self.field = field
        self.reason = reason


class UnsupportedModel(PlanningError):
    """A well-formed config whose architecture uses something capplan does not model."""


class InvalidQuestion(PlanningError):
    """A question whose parts contradict each other (e.g. a layout the model cannot take)."""


class UnknownEngineName(InvalidQuestion):
    """An ``engine`` value naming no profile of the catalog; ``known`` lists the accepted ones."""

    def __init__(self, requested: str, known: list[str]) -> None:
        super().__init__(
            f"unknown engine '{requested}'; known: {', '.join(known)} "
            "(a name alone means that engine's newest profile)"
        )
        self.field = "engine"
        self.known = known


class InvalidField(InvalidQuestion):
    """A request field whose value cannot serve this model (``field``: its path in the
    question, e.g. ``workload.speculative.method``); ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class CatalogUnavailable(PlanningError):
    """The catalog cannot be read right now and nothing cached answers the question."""


class EngineSettingNotAccepted(InvalidQuestion):
    """A knob (``field``) that the chosen engine does not have, e.g. ``mem_fraction_static``
    for vLLM; ``owners`` names the engines that do, with their flags."""

    def __init__(self, field: str, engine: str, owners: list[str]) -> None:
        super().__init__(
            f"{field}: {engine} has no such setting; it belongs to {', '.join(owners)}"
        )
        self.field = field
        self.engine = engine
        self.owners = owners
