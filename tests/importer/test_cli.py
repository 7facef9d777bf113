"""``capplan hub import`` and ``capplan hub sweep`` against the fake Hub."""

from __future__ import annotations

import pytest

from service.cli import main
from tests.fakehub import FakeHubServer
from tests.importer.models import MAMBA_CONFIG, REPO


@pytest.fixture(autouse=True)
def environment(db_url: str, fake_hub: FakeHubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the test database and the fake Hub from the environment."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("HF_ENDPOINT", fake_hub.url)
    monkeypatch.setenv("CAPPLAN_HUB_TIMEOUT_S", "5")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("CAPPLAN_SWEEP_AUTHORS", raising=False)


def test_import_queues_a_job(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --wait the import is queued once; a second call finds it queued."""
    assert main(["hub", "import", REPO]) == 0
    assert main(["hub", "import", REPO]) == 0

    first, second = capsys.readouterr().out.splitlines()
    assert first.endswith(f"for {REPO}: queued")
    assert second.endswith(f"for {REPO}: already queued")


def test_import_wait_prints_the_result(
    llama: FakeHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """--wait imports now, prints the exact count and the Hub comparison, and exits 0."""
    assert main(["hub", "import", REPO, "--wait"]) == 0

    out = capsys.readouterr().out
    assert f"{REPO}@111111111111: inserted (1,235,814,400 parameters" in out
    assert "agrees with the computed count" in out


def test_failed_import_exits_1_with_the_reason(
    fake_hub: FakeHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failed import exits 1 and prints why on stderr."""
    fake_hub.hub.add_model(REPO, MAMBA_CONFIG)

    assert main(["hub", "import", REPO, "--wait"]) == 1

    assert "state-space (Mamba) layers" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["llama"], id="no-namespace"),
        pytest.param(["org/has space"], id="space"),
        pytest.param([REPO, "--revision", "bad revision"], id="revision"),
    ],
)
def test_bad_reference_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed repo id or revision exits 2 before touching the database or the Hub."""
    assert main(["hub", "import", *argv]) == 2

    assert "hub import:" in capsys.readouterr().err


def test_sweep_prints_what_it_queued(
    fake_hub: FakeHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """hub sweep lists the authors' new models and prints the queued repos."""
    fake_hub.hub.add_model("org/a", {"model_type": "llama"})

    assert main(["hub", "sweep", "--author", "org"]) == 0

    assert capsys.readouterr().out.startswith("enqueued 1: org/a")


def test_sweep_exits_1_when_a_listing_fails(
    fake_hub: FakeHubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Hub error for an author makes the sweep exit 1, naming the author."""
    fake_hub.hub.fail_next("/api/models", 500)

    assert main(["hub", "sweep", "--author", "org"]) == 1

    assert "error listing org:" in capsys.readouterr().out
