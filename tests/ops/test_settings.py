"""The operations settings are read from the environment, with safe defaults."""

from __future__ import annotations

import pytest

from service.settings import Settings, SettingsError


def test_operations_defaults() -> None:
    """1 MiB bodies, 600 computing requests a minute, 20 s to drain, JSON logs at info."""
    settings = Settings.from_env({})
    assert (settings.max_body_bytes, settings.rate_limit_per_minute) == (2**20, 600)
    assert (settings.shutdown_timeout_s, settings.log_format, settings.log_level) == (
        20,
        "json",
        "info",
    )


def test_operations_settings_come_from_the_environment() -> None:
    """CAPPLAN_MAX_BODY_BYTES, _SHUTDOWN_TIMEOUT_S, _LOG_FORMAT and _LOG_LEVEL are read."""
    settings = Settings.from_env(
        {
            "CAPPLAN_MAX_BODY_BYTES": "65536",
            "CAPPLAN_SHUTDOWN_TIMEOUT_S": "5",
            "CAPPLAN_LOG_FORMAT": "text",
            "CAPPLAN_LOG_LEVEL": "warning",
        }
    )
    assert (settings.max_body_bytes, settings.shutdown_timeout_s) == (65536, 5)
    assert (settings.log_format, settings.log_level) == ("text", "warning")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CAPPLAN_MAX_BODY_BYTES", "10"),
        ("CAPPLAN_LOG_FORMAT", "xml"),
        ("CAPPLAN_SHUTDOWN_TIMEOUT_S", "0"),
    ],
    ids=["tiny-body-limit", "unknown-format", "no-drain-time"],
)
def test_invalid_operations_settings_name_the_variable(variable: str, value: str) -> None:
    """A bad value fails at start-up, naming the variable."""
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})
