"""Service configuration, read once from the environment into a frozen struct.

Every field is read from ``CAPPLAN_<FIELD NAME IN CAPS>`` unless :data:`ENV_NAMES` gives it
a conventional name (``DATABASE_URL``, ``HF_TOKEN`` …). To add a setting, add a field with a
default; tuple fields are read as comma-separated lists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import msgspec

import service
from service.package_data import bundled_catalog_dir, bundled_migrations_dir

#: Fields whose environment variable is not ``CAPPLAN_<FIELD>``.
ENV_NAMES: Mapping[str, str] = {
    "database_url": "DATABASE_URL",
    "admin_token": "CAPPLAN_ADMIN_TOKEN",
    "hf_endpoint": "HF_ENDPOINT",
    "hf_token": "HF_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
}

DEFAULT_SWEEP_AUTHORS = (
    "meta-llama",
    "Qwen",
    "mistralai",
    "google",
    "deepseek-ai",
    "microsoft",
    "openai",
)


def default_database_url() -> str:
    """The embedded SQLite database, ``./data/capplan.db`` made absolute from the cwd."""
    return f"sqlite+aiosqlite:///{Path.cwd().resolve() / 'data' / 'capplan.db'}"


SOURCE_ROOT = Path(service.__file__).resolve().parent.parent
"""The directory holding the ``service`` package: the repository root in a checkout. The only
place that computes it; every path the service reads is derived from the settings below."""


def default_catalog_dir() -> Path:
    """The bundled catalog: the installed wheel's copy (``service/_catalog``), else the
    repository's ``catalog/`` next to the ``service`` package (see service/package_data.py)."""
    return bundled_catalog_dir()


def default_migrations_dir() -> Path:
    """``migrations/`` next to the package (a checkout or an image that copies the repo), else
    ``./migrations`` from the working directory."""
    beside = bundled_migrations_dir()
    return beside if beside.is_dir() else Path.cwd() / "migrations"


class SettingsError(ValueError):
    """An environment variable holds a value the setting cannot take."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service reads from its environment."""

    database_url: str = msgspec.field(default_factory=default_database_url)
    admin_token: str | None = None
    hf_endpoint: str = "https://huggingface.co"
    hf_token: str | None = None
    hub_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    # None (unset): on with the embedded SQLite database, where this process is the only one
    # that can run jobs; off on PostgreSQL, where replicas choose (``runs_importer``).
    importer_enabled: bool | None = None
    importer_poll_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    importer_lease_s: Annotated[float, msgspec.Meta(gt=0)] = 300.0
    importer_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 5
    importer_backoff_s: Annotated[float, msgspec.Meta(ge=0)] = 5.0
    importer_backoff_max_s: Annotated[float, msgspec.Meta(ge=0)] = 600.0
    importer_shutdown_grace_s: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    importer_worker_id: str | None = None
    # A worker beats every third of this; POST /v1/imports on a replica without a worker
    # answers 503 unless some worker beat within it (service/importer/heartbeat.py).
    importer_heartbeat_stale_s: Annotated[float, msgspec.Meta(ge=3, le=3600)] = 30.0
    sweep_interval_s: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    sweep_authors: tuple[str, ...] = DEFAULT_SWEEP_AUTHORS
    sweep_limit: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 20
    slack_signing_secret: str | None = None
    catalog_dir: Path = msgspec.field(default_factory=default_catalog_dir)
    # CAPPLAN_PRICES_FILE: this deployment's USD per GPU-hour over the catalog's list prices.
    prices_file: Path | None = None
    rate_limit_per_minute: Annotated[int, msgspec.Meta(ge=0)] = 600
    # Computing requests run in a thread pool off the event loop (service/api/compute_pool.py).
    compute_pool: Literal["process", "thread", "inline"] = "process"
    compute_workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 2
    compute_queue: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 8
    compute_deadline_s: Annotated[float, msgspec.Meta(gt=0, le=600)] = 10.0
    plan_max_search_cells: Annotated[int, msgspec.Meta(ge=1, le=10_000_000)] = 16_384
    # Seconds /v1/plan reuses its copy of the GPU catalog and of resolved models (this
    # process's own catalog writes show at once; other replicas' within this time); 0 = none.
    catalog_cache_ttl_s: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 5.0
    # Database deadlines (service/db/session.py): per statement, pool checkout, /ready.
    db_statement_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=3600)] = 5.0
    db_pool_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=600)] = 5.0
    ready_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=60)] = 2.0
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=100 * 2**20)] = 2**20
    shutdown_timeout_s: Annotated[int, msgspec.Meta(ge=1, le=3600)] = 20
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    migrate_on_start: bool = True
    sync_catalog_on_start: bool = True
    debug: bool = False

    @property
    def runs_importer(self) -> bool:
        """Whether this process runs the Hub import worker (see ``importer_enabled``)."""
        if self.importer_enabled is not None:
            return self.importer_enabled
        return self.database_url.startswith("sqlite")

    @property
    def engines_file(self) -> Path:
        """Engine profiles: ``<catalog_dir>/engines.yaml``."""
        return self.catalog_dir / "engines.yaml"

    @property
    def calibration_file(self) -> Path:
        """Fitted latency efficiencies: ``<catalog_dir>/calibration.yaml``."""
        return self.catalog_dir / "calibration.yaml"

    @property
    def reference_dir(self) -> Path:
        """Public reference measurements with their sources: ``<catalog_dir>/reference``."""
        return self.catalog_dir / "reference"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Build settings from ``environ``; unset or empty variables keep their defaults."""
        info = cast("msgspec.inspect.StructType", msgspec.inspect.type_info(cls))
        raw: dict[str, Any] = {}
        for field in info.fields:
            value = environ.get(env_name(field.name), "")
            if value == "":
                continue
            if isinstance(field.type, msgspec.inspect.VarTupleType):
                raw[field.name] = tuple(item.strip() for item in value.split(",") if item.strip())
            else:
                raw[field.name] = value
        try:
            return msgspec.convert(raw, cls, strict=False, dec_hook=_decode_path)
        except msgspec.ValidationError as exc:
            raise SettingsError(_name_variable(str(exc))) from exc


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return ENV_NAMES.get(field, f"CAPPLAN_{field.upper()}")


def _decode_path(type_: type, value: Any) -> Any:
    if type_ is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def _name_variable(message: str) -> str:
    """Rewrite msgspec's ``- at `$.field``` suffix to name the environment variable."""
    head, sep, path = message.rpartition(" - at `$.")
    if not sep:
        return message
    return f"{env_name(path.rstrip('`'))}: {head}"
