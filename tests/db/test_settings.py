"""Settings are read from the environment, with defaults for a local run."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

import service
from service.settings import DEFAULT_SWEEP_AUTHORS, Settings, SettingsError


def test_empty_environment_gives_local_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing set, the service uses ./data/capplan.db and the repository's catalog."""
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/data/capplan.db"
    assert settings.catalog_dir == Path(service.__file__).resolve().parent.parent / "catalog"
    assert settings.sweep_authors == DEFAULT_SWEEP_AUTHORS
    assert (settings.importer_enabled, settings.sweep_interval_s, settings.debug) == (
        None,  # unset: on with the embedded SQLite default (settings.runs_importer)
        0,
        False,
    )
    assert settings.runs_importer
    assert settings.admin_token is None
    assert not (tmp_path / "data").exists()


def test_environment_values_are_converted_to_field_types() -> None:
    """Strings from the environment become bools, numbers and paths."""
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+asyncpg://u@db/capplan",
            "CAPPLAN_IMPORTER_ENABLED": "true",
            "CAPPLAN_SWEEP_INTERVAL_S": "3600",
            "CAPPLAN_HUB_TIMEOUT_S": "2.5",
            "CAPPLAN_RATE_LIMIT_PER_MINUTE": "60",
            "CAPPLAN_CATALOG_DIR": "/srv/catalog",
            "HF_TOKEN": "hf_secret",
            "SLACK_SIGNING_SECRET": "shh",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u@db/capplan"
    assert settings.importer_enabled is True
    assert settings.sweep_interval_s == 3600
    assert settings.hub_timeout_s == 2.5
    assert settings.rate_limit_per_minute == 60
    assert settings.catalog_dir == Path("/srv/catalog")
    assert (settings.hf_token, settings.slack_signing_secret) == ("hf_secret", "shh")


def test_sweep_authors_are_a_comma_separated_list() -> None:
    """CAPPLAN_SWEEP_AUTHORS is split on commas, ignoring blanks and spaces."""
    settings = Settings.from_env({"CAPPLAN_SWEEP_AUTHORS": " Qwen, google ,,"})
    assert settings.sweep_authors == ("Qwen", "google")


def test_empty_variables_keep_the_default() -> None:
    """An empty variable counts as unset."""
    assert Settings.from_env({"HF_ENDPOINT": ""}).hf_endpoint == "https://huggingface.co"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CAPPLAN_HUB_TIMEOUT_S", "soon"), ("CAPPLAN_SWEEP_INTERVAL_S", "-1")],
    ids=["not-a-number", "negative"],
)
def test_invalid_value_names_the_variable(variable: str, value: str) -> None:
    """A bad value fails with the name of the environment variable to fix."""
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_settings_are_immutable() -> None:
    """Settings are frozen; derive changed copies with msgspec.structs.replace."""
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.debug = True  # type: ignore[misc]
    assert msgspec.structs.replace(settings, debug=True).debug is True


@pytest.mark.parametrize(
    ("database_url", "enabled", "runs"),
    [
        ("sqlite+aiosqlite:///data/capplan.db", None, True),
        ("postgresql+asyncpg://u@db/capplan", None, False),
        ("sqlite+aiosqlite:///data/capplan.db", False, False),
        ("postgresql+asyncpg://u@db/capplan", True, True),
    ],
    ids=["sqlite-default", "postgresql-default", "sqlite-off", "postgresql-on"],
)
def test_importer_runs_by_default_only_on_embedded_sqlite(
    database_url: str, enabled: bool | None, runs: bool
) -> None:
    """Unset, the worker runs where one process owns the database; a setting overrides it."""
    settings = Settings(database_url=database_url, importer_enabled=enabled)

    assert settings.runs_importer is runs
