"""pytest fixtures: one fake Hub server per session, emptied before each test.

Expose them from a ``conftest.py`` with
``from tests.fakehub.fixtures import fake_hub, fake_hub_server``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from huggingface_hub import close_session, constants

from tests.fakehub.server import FakeHubServer, run_fake_hub


@pytest.fixture(scope="session")
def fake_hub_server() -> Iterator[FakeHubServer]:
    """The running fake Hub, shared by the session; tests should use ``fake_hub``."""
    with run_fake_hub() as server:
        yield server
    close_session()  # drop the library's pooled connections to the stopped server


@pytest.fixture
def fake_hub(
    fake_hub_server: FakeHubServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeHubServer]:
    """The fake Hub with no models, faults or recorded requests."""
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    # The endpoint is loopback, so a CI-wide HF_HUB_OFFLINE=1 guard must not block it.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    fake_hub_server.hub.reset()
    yield fake_hub_server
    fake_hub_server.hub.reset()
