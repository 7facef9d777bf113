""":class:`HfHubClient`: the :class:`~service.hub.client.HubClient` backed by ``huggingface_hub``.

Every request goes to the configured endpoint with the configured timeout and is tried
once. That rules out three library helpers, which retry internally with waits no timeout
bounds: ``hf_hub_download`` (a 60 s re-probe and up to five retries that sleep out
``Retry-After``), ``list_models`` (no timeout and five retries) and
``get_safetensors_metadata`` (downloads its index through ``hf_hub_download``). Those
paths use single GETs on the library's shared session instead; retrying is the caller's
decision, made from :attr:`HubError.permanent <service.hub.errors.HubError.permanent>`.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import msgspec
from huggingface_hub import HfApi, constants, get_session, hf_hub_url, hf_raise_for_status
from huggingface_hub.errors import RemoteEntryNotFoundError
from huggingface_hub.hf_api import ExpandModelProperty_T

# The ``huggingface_hub.utils`` facade is lazy, so mypy sees no exports there.
from huggingface_hub.utils._headers import build_hf_headers
from huggingface_hub.utils._http import fix_hf_endpoint_in_url

from service.hub.errors import ConfigNotFound, HubError, MalformedConfig
from service.hub.hf_errors import hub_errors
from service.hub.models import HubListing, HubModelInfo, HubTensor

LIBRARY_NAME = "capplan"
CONFIG_FILE = "config.json"
TEXT_GENERATION = "text-generation"
MAX_SHARD_WORKERS = 8

_INFO_FIELDS: list[ExpandModelProperty_T] = [
    "sha",
    "createdAt",
    "gated",
    "safetensors",
    "pipeline_tag",
    "library_name",
]


class _Listed(msgspec.Struct, frozen=True):
    """One entry of ``GET /api/models`` with ``expand=createdAt,sha``."""

    id: str
    created_at: datetime | None = msgspec.field(default=None, name="createdAt")
    sha: str | None = None


def _library_version() -> str | None:
    try:
        return version(LIBRARY_NAME)
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return None


class HfHubClient:
    """Reads model repositories from the Hub at ``endpoint``.

    ``token=None`` sends no credentials at all, so a developer's cached ``hf auth login``
    never leaks into requests. ``HF_ENDPOINT`` is read by the library at import time and is
    never relied on: ``endpoint`` is passed to every call.
    """

    def __init__(self, endpoint: str, token: str | None, timeout_s: float) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self._endpoint = endpoint.rstrip("/")
        self._token: str | Literal[False] = token or False
        self._timeout_s = timeout_s
        self._version = _library_version()
        self._api = HfApi(
            endpoint=self._endpoint,
            token=self._token,
            library_name=LIBRARY_NAME,
            library_version=self._version,
        )

    def model_info(self, repo_id: str, revision: str | None) -> HubModelInfo:
        """The repository at ``revision`` (default branch when None), its commit sha resolved."""
        with hub_errors(repo_id, revision):
            info = self._api.model_info(
                repo_id, revision=revision, expand=_INFO_FIELDS, timeout=self._timeout_s
            )
        if not info.sha:
            raise HubError(f"{repo_id}: the Hub reported no commit for revision {revision!r}")
        safetensors = info.safetensors
        return HubModelInfo(
            repo_id=info.id,
            sha=info.sha,
            gated=bool(info.gated),
            created_at=info.created_at,
            safetensors_parameters=dict(safetensors.parameters) if safetensors else None,
            safetensors_total=safetensors.total if safetensors else None,
            pipeline_tag=info.pipeline_tag,
            library_name=info.library_name,
        )

    def download_config(self, repo_id: str, sha: str) -> bytes:
        """The raw ``config.json`` at commit ``sha``, checked to be a JSON object."""
        with hub_errors(repo_id, sha):
            try:
                raw = self._get_file(repo_id, sha, CONFIG_FILE)
            except RemoteEntryNotFoundError as exc:
                raise ConfigNotFound(repo_id, sha) from exc
        _check_json_object(repo_id, raw)
        return raw

    def safetensors_parameter_counts(self, repo_id: str, sha: str) -> dict[str, int] | None:
        """Element counts per storage dtype at ``sha``; None when there are no safetensors.

        The Hub's own count (``model_info`` ``safetensors``) when it has one, else the sum
        over the safetensors headers, read with HTTP range requests.
        """
        with hub_errors(repo_id, sha):
            info = self._api.model_info(
                repo_id, revision=sha, expand=["safetensors"], timeout=self._timeout_s
            )
            if info.safetensors is not None:
                return dict(info.safetensors.parameters)
            return self._count_from_headers(repo_id, sha)

    def safetensors_tensors(self, repo_id: str, sha: str) -> list[HubTensor] | None:
        """Every tensor's name, dtype and shape at ``sha``, read from the safetensors headers
        (HTTP range requests: ``model.safetensors``, else each shard of the index); None when
        the revision has no safetensors."""
        with hub_errors(repo_id, sha):
            return self._tensors_from_headers(repo_id, sha)

    def list_new_models(self, author: str, since: datetime | None, limit: int) -> list[HubListing]:
        """``author``'s text-generation models created after ``since``, newest first.

        ``since`` must be timezone-aware. Pages are fetched only until a model at or before
        ``since`` appears or ``limit`` models were found.
        """
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        found: list[HubListing] = []
        url: str | None = f"{self._endpoint}/api/models"
        params: dict[str, Any] | None = {
            "author": author,
            "pipeline_tag": TEXT_GENERATION,
            "sort": "createdAt",
            "limit": limit,
            "expand": ["createdAt", "sha"],
        }
        with hub_errors(author):
            while url is not None and len(found) < limit:
                response = get_session().get(
                    url, params=params, headers=self._headers(), timeout=self._timeout_s
                )
                hf_raise_for_status(response)
                for item in _decode_listing(author, response.content):
                    if item.created_at is None:
                        continue
                    if since is not None and item.created_at <= since:
                        return found
                    found.append(
                        HubListing(repo_id=item.id, created_at=item.created_at, sha=item.sha)
                    )
                    if len(found) == limit:
                        break
                next_url = response.links.get("next", {}).get("url")
                url = (
                    self._next_page(author, urljoin(str(response.url), next_url))
                    if next_url
                    else None
                )
                params = None  # the next link carries the query
        return found

    def _next_page(self, author: str, link: str) -> str:
        """The ``rel=next`` link, refused unless it stays on the configured endpoint's origin.

        Every request carries ``HF_TOKEN``, so a link to any other host would hand it over.
        """
        url = fix_hf_endpoint_in_url(link, self._endpoint)
        if _origin(url) != _origin(self._endpoint):
            raise HubError(
                f"{author}: the Hub's next-page link leaves {self._endpoint} "
                f"({_origin(url)[1] or url!r}); not followed"
            )
        return url

    def _count_from_headers(self, repo_id: str, sha: str) -> dict[str, int] | None:
        """Sum the single ``model.safetensors`` header, else every shard in the index."""
        try:
            return dict(self._header_counts(repo_id, sha, constants.SAFETENSORS_SINGLE_FILE))
        except RemoteEntryNotFoundError:
            pass
        try:
            index = self._get_file(repo_id, sha, constants.SAFETENSORS_INDEX_FILE)
        except RemoteEntryNotFoundError:
            return None
        shards = _shard_names(repo_id, index)
        total: Counter[str] = Counter()
        pool = ThreadPoolExecutor(max_workers=min(MAX_SHARD_WORKERS, len(shards)))
        try:
            for counts in pool.map(lambda shard: self._header_counts(repo_id, sha, shard), shards):
                total.update(counts)
        finally:
            pool.shutdown(cancel_futures=True)
        return dict(total)

    def _tensors_from_headers(self, repo_id: str, sha: str) -> list[HubTensor] | None:
        try:
            return self._header_tensors(repo_id, sha, constants.SAFETENSORS_SINGLE_FILE)
        except RemoteEntryNotFoundError:
            pass
        try:
            index = self._get_file(repo_id, sha, constants.SAFETENSORS_INDEX_FILE)
        except RemoteEntryNotFoundError:
            return None
        shards = _shard_names(repo_id, index)
        tensors: list[HubTensor] = []
        pool = ThreadPoolExecutor(max_workers=min(MAX_SHARD_WORKERS, len(shards)))
        try:
            for found in pool.map(lambda shard: self._header_tensors(repo_id, sha, shard), shards):
                tensors.extend(found)
        finally:
            pool.shutdown(cancel_futures=True)
        return tensors

    def _header_tensors(self, repo_id: str, sha: str, filename: str) -> list[HubTensor]:
        metadata = self._api.parse_safetensors_file_metadata(
            repo_id, filename, revision=sha, timeout=self._timeout_s
        )
        return [
            HubTensor(name=name, dtype=str(info.dtype), shape=tuple(info.shape))
            for name, info in metadata.tensors.items()
        ]

    def _header_counts(self, repo_id: str, sha: str, filename: str) -> dict[str, int]:
        metadata = self._api.parse_safetensors_file_metadata(
            repo_id, filename, revision=sha, timeout=self._timeout_s
        )
        return {str(dtype): count for dtype, count in metadata.parameter_count.items()}

    def _get_file(self, repo_id: str, sha: str, filename: str) -> bytes:
        url = hf_hub_url(repo_id, filename, revision=sha, endpoint=self._endpoint)
        response = get_session().get(url, headers=self._headers(), timeout=self._timeout_s)
        hf_raise_for_status(response)
        return response.content

    def _headers(self) -> dict[str, str]:
        return build_hf_headers(
            token=self._token, library_name=LIBRARY_NAME, library_version=self._version
        )


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of ``url`` (RFC 6454), default ports made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:  # a port that is not a number
        return scheme, "", None
    return scheme, (parts.hostname or "").lower(), port


def _check_json_object(repo_id: str, raw: bytes) -> None:
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedConfig(repo_id, f"not JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise MalformedConfig(repo_id, f"expected a JSON object, got {type(parsed).__name__}")


def _decode_listing(author: str, body: bytes) -> list[_Listed]:
    try:
        return msgspec.json.decode(body, type=list[_Listed])
    except msgspec.DecodeError as exc:
        raise HubError(f"{author}: unexpected model list from the Hub ({exc})") from exc


def _shard_names(repo_id: str, index: bytes) -> list[str]:
    """The distinct shard files named by a ``model.safetensors.index.json``."""
    try:
        weight_map = json.loads(index)["weight_map"]
        shards = sorted(set(weight_map.values()))
    except (ValueError, RecursionError, TypeError, KeyError, AttributeError) as exc:
        raise HubError(f"{repo_id}: malformed {constants.SAFETENSORS_INDEX_FILE} ({exc})") from exc
    if not shards or not all(isinstance(shard, str) for shard in shards):
        raise HubError(f"{repo_id}: {constants.SAFETENSORS_INDEX_FILE} names no shard files")
    return shards
