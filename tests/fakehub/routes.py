"""What the fake Hub answers, as plain functions of a request (no I/O).

Paths, headers and error codes follow what ``huggingface_hub`` 2.4 sends and parses
(``hf_api.py``, ``file_download.py``, ``utils/_http.py::hf_raise_for_status``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

from tests.fakehub.registry import FakeHub, FakeModel, RecordedRequest

_INFO = re.compile(r"^/api/models/(?P<org>[^/]+)/(?P<name>[^/]+)(?:/revision/(?P<rev>[^/]+))?$")
_RESOLVE = re.compile(r"^/(?P<org>[^/]+)/(?P<name>[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_RANGE = re.compile(r"^bytes=(?P<start>\d*)-(?P<end>\d*)$")
_LIST_DEFAULT_FIELDS = (
    "createdAt",
    "downloads",
    "likes",
    "library_name",
    "pipeline_tag",
    "private",
)


@dataclass(frozen=True)
class Response:
    """Status, headers and body to send back."""

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Request:
    """A request as the routes see it: ``raw_path`` still percent-encoded."""

    method: str
    raw_path: str
    query: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]
    base_url: str = field(default="http://127.0.0.1")

    @property
    def recorded(self) -> RecordedRequest:
        return RecordedRequest(self.method, unquote(self.raw_path), self.query, self.headers)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


def handle(hub: FakeHub, request: Request) -> Response:
    """Route ``request`` to the model list, model info or file endpoints."""
    if request.raw_path == "/api/models":
        return _list_models(hub, request)
    if match := _INFO.match(request.raw_path):
        return _model_info(hub, request, *_parts(match))
    if match := _RESOLVE.match(request.raw_path):
        return _resolve(hub, request, *_parts(match), unquote(match["file"]))
    return json_error(404, None, "Not Found")


def json_error(
    status: int, code: str | None, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A Hub error: JSON ``{"error": ...}`` with ``X-Error-Code``/``X-Error-Message``.

    ``headers`` are added last and replace the defaults of the same name.
    """
    out = {"content-type": "application/json", "x-error-message": message}
    if code is not None:
        out["x-error-code"] = code
    out.update({name.lower(): value for name, value in (headers or {}).items()})
    return Response(status, list(out.items()), json.dumps({"error": message}).encode())


def _parts(match: re.Match[str]) -> tuple[str, str | None]:
    """``(repo_id, revision)`` from a matched path, percent-decoded."""
    repo_id = f"{unquote(match['org'])}/{unquote(match['name'])}"
    return repo_id, unquote(match["rev"]) if match["rev"] else None


def _repo_not_found(request: Request) -> Response:
    """The Hub says 401 to anonymous callers and 404 to authenticated ones."""
    status = 404 if request.token else 401
    return json_error(status, "RepoNotFound", "Repository not found")


def _lookup(
    hub: FakeHub, request: Request, repo_id: str, revision: str | None
) -> FakeModel | Response:
    model = hub.get_model(repo_id)
    if model is None:
        return _repo_not_found(request)
    if revision not in (None, "main", model.sha):
        return json_error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
    return model


def _model_info(hub: FakeHub, request: Request, repo_id: str, revision: str | None) -> Response:
    model = _lookup(hub, request, repo_id, revision)
    if isinstance(model, Response):
        return model
    expand = request.query.get("expand") or request.query.get("expand[]")
    return _json(_model_json(model, expand))


def _list_models(hub: FakeHub, request: Request) -> Response:
    author = request.param("author")
    tag = request.param("pipeline_tag")
    models = [
        m
        for m in hub.all_models()
        if (author is None or m.author.lower() == author.lower())
        and (tag is None or m.pipeline_tag == tag)
    ]
    if request.param("sort") in ("createdAt", "created_at"):
        models.sort(key=lambda m: m.created_at, reverse=True)
    offset = int(request.param("cursor") or 0)
    limit = request.param("limit")
    wanted = int(limit) if limit is not None else len(models)
    page = models[offset : offset + min(wanted, hub.page_size)]
    expand = request.query.get("expand") or request.query.get("expand[]")
    body = [_model_json(m, expand or _LIST_DEFAULT_FIELDS) for m in page]
    headers: list[tuple[str, str]] = []
    remaining = wanted - len(page)
    if remaining > 0 and offset + len(page) < len(models):
        query = {k: list(v) for k, v in request.query.items()}
        query.update(cursor=[str(offset + len(page))], limit=[str(remaining)])
        next_url = f"{request.base_url}/api/models?{urlencode(query, doseq=True)}"
        headers.append(("link", f'<{next_url}>; rel="next"'))
    return _json(body, headers)


def _model_json(model: FakeModel, fields: Sequence[str] | None) -> dict[str, object]:
    everything: dict[str, object] = {
        "author": model.author,
        "sha": model.sha,
        "createdAt": model.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "lastModified": model.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "private": False,
        "gated": model.gated,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "library_name": model.library_name,
        "tags": [t for t in (model.library_name, model.pipeline_tag) if t],
        "pipeline_tag": model.pipeline_tag,
        "siblings": [{"rfilename": name} for name in sorted(model.files)],
        "config": model.config_subset,
        "safetensors": model.api_safetensors,
    }
    chosen = everything if fields is None else {k: everything.get(k) for k in fields}
    return {
        "_id": model.sha[:24],
        "id": model.repo_id,
        **{k: v for k, v in chosen.items() if v is not None},
    }


def _resolve(
    hub: FakeHub, request: Request, repo_id: str, revision: str | None, filename: str
) -> Response:
    model = _lookup(hub, request, repo_id, revision)
    if isinstance(model, Response):
        return model
    if model.gated and request.token not in model.authorized_tokens:
        status = 403 if request.token else 401
        return json_error(status, "GatedRepo", f"Access to model {model.repo_id} is restricted.")
    commit = {"x-repo-commit": model.sha}
    blob = model.files.get(filename)
    if blob is None:
        return json_error(404, "EntryNotFound", f"{filename} does not exist", commit)
    headers = [
        ("x-repo-commit", model.sha),
        ("etag", f'"{blob.etag}"'),
        ("accept-ranges", "bytes"),
        ("content-type", "application/octet-stream"),
    ]
    start, stop = 0, blob.size
    status = 200
    if (wanted := request.headers.get("range")) and request.method == "GET":
        bounds = _byte_range(wanted, blob.size)
        if bounds is None:
            return Response(416, [*headers, ("content-range", f"bytes */{blob.size}")])
        start, stop = bounds
        status = 206
        headers.append(("content-range", f"bytes {start}-{stop - 1}/{blob.size}"))
    headers.append(("content-length", str(stop - start)))
    body = b"" if request.method == "HEAD" else blob.read(start, stop)
    return Response(status, headers, body)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``[start, stop)`` for ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n``; None if unsatisfiable."""
    match = _RANGE.match(header.strip())
    if match is None or not (match["start"] or match["end"]):
        return None
    if not match["start"]:
        return max(0, size - int(match["end"])), size
    start = int(match["start"])
    stop = min(size, int(match["end"]) + 1) if match["end"] else size
    return (start, stop) if start < size and start < stop else None


def _json(payload: object, headers: Sequence[tuple[str, str]] = ()) -> Response:
    body = json.dumps(payload).encode()
    return Response(200, [("content-type", "application/json"), *headers], body)
