"""The fake Hub speaks the protocol huggingface_hub's own helpers expect."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download

from tests.fakehub import FakeHubServer, SafetensorsBlob, run_fake_hub
from tests.hub.conftest import LLAMA_CONFIG, LLAMA_COUNTS, LLAMA_TENSORS

SHA = "f" * 40


def test_hf_hub_download_fetches_into_the_cache(fake_hub: FakeHubServer, tmp_path: Path) -> None:
    """hf_hub_download (HEAD then GET) stores config.json under snapshots/<sha>/."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)

    path = hf_hub_download(
        "org/llama",
        "config.json",
        revision=SHA,
        endpoint=fake_hub.url,
        cache_dir=tmp_path,
        token=False,
    )

    assert Path(path).parent.name == SHA
    assert json.loads(Path(path).read_bytes()) == LLAMA_CONFIG


@pytest.mark.parametrize("shards", [1, 2])
def test_get_safetensors_metadata(fake_hub: FakeHubServer, tmp_path: Path, shards: int) -> None:
    """HfApi.get_safetensors_metadata reads single-file and sharded layouts."""
    fake_hub.hub.add_model(
        "org/llama", LLAMA_CONFIG, sha=SHA, safetensors=LLAMA_TENSORS, shards=shards
    )
    api = HfApi(endpoint=fake_hub.url, token=False)

    metadata = api.get_safetensors_metadata("org/llama", revision=SHA)

    assert (metadata.sharded, metadata.parameter_count) == (shards > 1, LLAMA_COUNTS)


def test_head_reports_commit_etag_and_length(fake_hub: FakeHubServer) -> None:
    """HEAD on a file has X-Repo-Commit, ETag and the full Content-Length, and no body."""
    model = fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)

    response = httpx.head(f"{fake_hub.url}/org/llama/resolve/main/config.json")

    assert response.headers["x-repo-commit"] == SHA
    assert response.headers["etag"].startswith('"')
    assert int(response.headers["content-length"]) == model.files["config.json"].size
    assert response.content == b""


@pytest.mark.parametrize(
    ("header", "content_range", "length"),
    [
        pytest.param("bytes=0-7", "bytes 0-7/", 8, id="prefix"),
        pytest.param("bytes=8-", "bytes 8-", None, id="open-ended"),
        pytest.param("bytes=-4", None, 4, id="suffix"),
    ],
)
def test_range_requests(
    fake_hub: FakeHubServer, header: str, content_range: str | None, length: int | None
) -> None:
    """Range GETs answer 206 with the requested slice and a Content-Range."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, safetensors=LLAMA_TENSORS)
    url = f"{fake_hub.url}/org/llama/resolve/main/model.safetensors"

    response = httpx.get(url, headers={"Range": header})

    assert response.status_code == 206
    if content_range is not None:
        assert response.headers["content-range"].startswith(content_range)
    if length is not None:
        assert len(response.content) == length


def test_safetensors_prefix_is_the_header_length(fake_hub: FakeHubServer) -> None:
    """The first eight bytes are the little-endian length of the JSON header that follows."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, safetensors=LLAMA_TENSORS)
    url = f"{fake_hub.url}/org/llama/resolve/main/model.safetensors"

    body = httpx.get(url, headers={"Range": "bytes=0-100000"}).content
    (length,) = struct.unpack("<Q", body[:8])

    assert json.loads(body[8 : 8 + length])["model.norm.weight"]["shape"] == [64]


def test_unsatisfiable_range(fake_hub: FakeHubServer) -> None:
    """A range past the end answers 416 with Content-Range: bytes */size."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG)
    url = f"{fake_hub.url}/org/llama/resolve/main/config.json"

    response = httpx.get(url, headers={"Range": "bytes=99999-"})

    assert (response.status_code, response.headers["content-range"][:8]) == (416, "bytes */")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        pytest.param("/api/models/org/nope", 401, "RepoNotFound", id="missing-repo"),
        pytest.param("/api/models/org/llama/revision/v9", 404, "RevisionNotFound", id="revision"),
        pytest.param("/org/llama/resolve/main/missing.txt", 404, "EntryNotFound", id="file"),
        pytest.param("/org/gated/resolve/main/config.json", 401, "GatedRepo", id="gated"),
    ],
)
def test_error_codes(fake_hub: FakeHubServer, path: str, status: int, code: str) -> None:
    """Errors carry the X-Error-Code huggingface_hub maps to its exception classes."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG)
    fake_hub.hub.add_model("org/gated", LLAMA_CONFIG, gated="manual")

    response = httpx.get(f"{fake_hub.url}{path}")

    assert (response.status_code, response.headers["x-error-code"]) == (status, code)


def test_fail_next_is_used_up(fake_hub: FakeHubServer) -> None:
    """An injected failure applies ``times`` times, then requests succeed again."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG)
    fake_hub.hub.fail_next("/api/models/org/llama", 503, times=2)
    url = f"{fake_hub.url}/api/models/org/llama"

    assert [httpx.get(url).status_code for _ in range(3)] == [503, 503, 200]


def test_expand_limits_the_fields(fake_hub: FakeHubServer) -> None:
    """With expand[] only the listed properties (plus ids) come back."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG)

    body = httpx.get(f"{fake_hub.url}/api/models/org/llama", params={"expand[]": ["sha"]}).json()

    assert sorted(body) == ["_id", "id", "sha"]


def test_run_fake_hub_serves_its_own_registry() -> None:
    """run_fake_hub() starts a separate server on a free port and stops it on exit."""
    with run_fake_hub() as (url, hub):
        hub.add_model("org/llama", LLAMA_CONFIG)
        assert httpx.get(f"{url}/api/models/org/llama").json()["id"] == "org/llama"

    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/models/org/llama")


def test_safetensors_blob_data_is_zeros() -> None:
    """Bytes past the header are zeros, and the size counts every tensor's bytes."""
    blob = SafetensorsBlob({"w": ("BF16", [4, 4])})

    assert blob.size == len(blob.prefix) + 32
    assert blob.read(len(blob.prefix), blob.size) == bytes(32)
