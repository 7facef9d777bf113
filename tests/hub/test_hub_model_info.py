"""HfHubClient.model_info against the loopback fake Hub."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.hub.client import HfHubClient, RepoNotFound, RevisionNotFound
from tests.fakehub import FakeHubServer
from tests.hub.conftest import LLAMA_CONFIG, LLAMA_COUNTS, LLAMA_TENSORS

SHA = "a" * 40


def test_resolves_the_default_branch_to_its_commit(
    client: HfHubClient, fake_hub: FakeHubServer
) -> None:
    """Without a revision the answer carries the commit sha of main."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)

    assert client.model_info("org/llama", None).sha == SHA


def test_pins_a_revision_in_the_request_path(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A revision is sent as /api/models/{repo}/revision/{rev}."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, sha=SHA)

    client.model_info("org/llama", SHA)

    assert [r.path for r in fake_hub.hub.requests] == [f"/api/models/org/llama/revision/{SHA}"]


def test_reports_the_hub_safetensors_counts(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """Per-dtype counts and their total come from the safetensors field."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, safetensors=LLAMA_TENSORS)

    info = client.model_info("org/llama", None)

    assert (info.safetensors_parameters, info.safetensors_total) == (LLAMA_COUNTS, 72256)


def test_copies_metadata_fields(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """created_at, pipeline_tag and library_name are carried over."""
    created = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, created_at=created)

    info = client.model_info("org/llama", None)

    assert (info.created_at, info.pipeline_tag, info.library_name) == (
        created,
        "text-generation",
        "transformers",
    )


def test_missing_safetensors_counts_are_none(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A repository without safetensors has no counts."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG)

    info = client.model_info("org/llama", None)

    assert (info.safetensors_parameters, info.safetensors_total) == (None, None)


@pytest.mark.parametrize(("gated", "expected"), [(False, False), ("auto", True), ("manual", True)])
def test_gated_flag(
    client: HfHubClient, fake_hub: FakeHubServer, gated: bool | str, expected: bool
) -> None:
    """The Hub's gated value (false, "auto", "manual") becomes a bool."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG, gated=gated)

    assert client.model_info("org/llama", None).gated is expected


def test_uses_the_canonical_repo_id(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """The id the Hub answers with replaces the caller's spelling."""
    fake_hub.hub.add_model("Org/Llama", LLAMA_CONFIG)

    assert client.model_info("org/llama", None).repo_id == "Org/Llama"


def test_unknown_repository(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A repository the Hub does not know raises RepoNotFound."""
    with pytest.raises(RepoNotFound, match="org/nope"):
        client.model_info("org/nope", None)


def test_unknown_revision(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """A branch or commit the repository lacks raises RevisionNotFound."""
    fake_hub.hub.add_model("org/llama", LLAMA_CONFIG)

    with pytest.raises(RevisionNotFound, match="'v9'"):
        client.model_info("org/llama", "v9")


def test_invalid_repo_id_is_not_found(client: HfHubClient, fake_hub: FakeHubServer) -> None:
    """An id that cannot name a repository raises RepoNotFound without a request."""
    with pytest.raises(RepoNotFound, match="not a valid repository id"):
        client.model_info("a/b/c", None)

    assert fake_hub.hub.requests == []
