"""The ``--url`` backend: the same questions, asked of a running capplan server over HTTP."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from service.contract.catalog import GpuOut, GpuPage, ModelPage
from service.contract.schemas import (
    InspectRequest,
    InspectResponse,
    LatencyRequest,
    LatencyResponse,
    MaxBatchRequest,
    MaxBatchResponse,
    ModelRef,
    PlanRequest,
    PlanResponse,
)
from service.domain.architecture import Architecture
from service.domain.gpu import GpuSpec
from service.gate.backend import Rejected, Unavailable

T = TypeVar("T")

_GPU_FIELDS = tuple(field.name for field in msgspec.structs.fields(GpuSpec))
#: Statuses that mean "your input is wrong", not "the server is".
_REJECTIONS = frozenset({400, 404, 422})
PAGE = 500
"""Items per list request (the API's largest ``limit``)."""


class Problem(msgspec.Struct, kw_only=True):
    title: str = ""
    detail: str | None = None


class HttpBackend:
    """Asks ``/v1/inspect``, ``/v1/gpus/{id}``, ``/v1/max-batch``, ``/v1/latency``, ``/v1/plan``."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    @classmethod
    def connect(cls, url: str, timeout_s: float = 30.0) -> HttpBackend:
        return cls(httpx.Client(base_url=url, timeout=timeout_s))

    @property
    def label(self) -> str:
        return str(self.client.base_url).rstrip("/")

    def close(self) -> None:
        self.client.close()

    def _send(self, method: str, path: str, body: Any, answer: type[T]) -> T:
        content = None if body is None else msgspec.json.encode(body)
        headers = {"content-type": "application/json"} if content is not None else {}
        try:
            response = self.client.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot reach {self.label}: {exc}") from exc
        if response.status_code == 200:
            try:
                return msgspec.json.decode(response.content, type=answer)
            except msgspec.DecodeError as exc:
                raise Unavailable(f"{method} {path}: unexpected response: {exc}") from exc
        detail = _problem_detail(response)
        if response.status_code == 404 and _no_route(response):
            raise Unavailable(self._wrong_url(method, path))
        if response.status_code in _REJECTIONS:
            raise Rejected(detail)
        raise Unavailable(f"{method} {path}: HTTP {response.status_code}: {detail}")

    def _wrong_url(self, method: str, path: str) -> str:
        """A 404 without a capplan answer: the route is not there, so the URL is not the
        service root (``--url http://host:8000/v1`` asks for ``/v1/v1/inspect``)."""
        hint = "; drop the trailing /v1" if self.label.endswith("/v1") else ""
        return (
            f"{method} {self.label}{path}: 404 Not Found, no capplan API there: --url is the "
            f"capplan service root (e.g. http://capplan:8000){hint}"
        )

    def architecture(self, model: ModelRef) -> Architecture:
        return self._send(
            "POST", "/v1/inspect", InspectRequest(model=model), InspectResponse
        ).architecture

    def gpu(self, gpu_id: str) -> GpuSpec:
        row = self._send("GET", f"/v1/gpus/{quote(gpu_id, safe='')}", None, GpuOut)
        return GpuSpec(**{name: getattr(row, name) for name in _GPU_FIELDS if hasattr(row, name)})

    def model_ids(self) -> list[str]:
        return [item.id for item in self._pages("/v1/models", ModelPage)]

    def gpu_names(self) -> list[tuple[str, str]]:
        return [(item.id, item.name) for item in self._pages("/v1/gpus", GpuPage)]

    def model_aliases(self) -> dict[str, str]:
        return {a: item.id for item in self._pages("/v1/models", ModelPage) for a in item.aliases}

    def _pages(self, path: str, page_type: type[Any]) -> list[Any]:
        """Every item of a paginated list, ``PAGE`` at a time (bounded by the total)."""
        items: list[Any] = []
        while True:
            page = self._send("GET", f"{path}?limit={PAGE}&offset={len(items)}", None, page_type)
            items += page.items
            if not page.items or len(items) >= page.total:
                return items

    def max_batch(self, request: MaxBatchRequest) -> MaxBatchResponse:
        return self._send("POST", "/v1/max-batch", request, MaxBatchResponse)

    def latency(self, request: LatencyRequest) -> LatencyResponse:
        return self._send("POST", "/v1/latency", request, LatencyResponse)

    def plan(self, request: PlanRequest) -> PlanResponse:
        """Every configuration the server finds (its largest ``limit``), as the offline
        backend sees them, so both rank the same remedies."""
        whole = msgspec.structs.replace(request, limit=1000)
        return self._send("POST", "/v1/plan", whole, PlanResponse)


def _no_route(response: httpx.Response) -> bool:
    """Is this 404 "no such route" rather than capplan's "no such model/GPU"? capplan's own
    404s always carry a ``detail`` saying which id; a missing route has none (capplan), says
    only "Not Found" (FastAPI, vLLM's server among them) or is not JSON at all."""
    try:
        problem = msgspec.json.decode(response.content, type=Problem)
    except msgspec.DecodeError:
        return True
    return problem.detail in (None, "", "Not Found")


def _problem_detail(response: httpx.Response) -> str:
    """The problem+json ``detail`` (or title), else the start of the body."""
    try:
        problem = msgspec.json.decode(response.content, type=Problem)
    except msgspec.DecodeError:
        return response.text[:200] or response.reason_phrase
    return problem.detail or problem.title or response.reason_phrase
