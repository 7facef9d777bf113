"""The tables: the GPU and model catalog, archived model configs, Hub import bookkeeping."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service.db.types import JsonDocument, UtcDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Origin(enum.StrEnum):
    """Who wrote a catalog row; seed sync never overwrites operator or hub rows."""

    SEED = "seed"
    OPERATOR = "operator"
    HUB = "hub"


class JobStatus(enum.StrEnum):
    """Life cycle of a Hub import job: queued, running, succeeded or failed."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _one_of(column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(DeclarativeBase):
    """Declarative base: named constraints (for SQLite batch migrations), UTC times, JSON."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        float: Double(),
        dt.datetime: UtcDateTime(),
        dict[str, Any]: JsonDocument,
        list[str]: JsonDocument,
        dict[str, int]: JsonDocument,
    }


class GpuRow(Base):
    """One accelerator type in the catalog (mirrors :class:`service.domain.gpu.GpuSpec`)."""

    __tablename__ = "gpus"
    __table_args__ = (_one_of("origin", Origin),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(64), index=True)
    memory_bytes: Mapped[int] = mapped_column(BigInteger)
    memory_basis: Mapped[str] = mapped_column(
        String(16), default="nominal", server_default="nominal"
    )
    memory_source: Mapped[str | None] = mapped_column(Text)
    nominal_memory_gb: Mapped[float | None]
    memory_bandwidth_bytes_per_s: Mapped[float]
    dense_tflops_bf16: Mapped[float]
    dense_tflops_fp16: Mapped[float]
    dense_tflops_fp8: Mapped[float | None]
    dense_tops_int8: Mapped[float | None]
    dense_tflops_fp4: Mapped[float | None]
    dense_tflops_mxfp4: Mapped[float | None]
    achievable_tflops_bf16: Mapped[float | None]
    compute_capability: Mapped[str | None] = mapped_column(String(8))
    interconnect: Mapped[str] = mapped_column(String(200))
    interconnect_bandwidth_bytes_per_s: Mapped[float]
    max_gpus_per_node: Mapped[int]
    tdp_watts: Mapped[float | None]
    price_per_hour_usd: Mapped[float | None]
    sources: Mapped[list[str]] = mapped_column(default=list)
    verified: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ModelRow(Base):
    """One Hugging Face model: its raw ``config.json`` and what capplan derived from it."""

    __tablename__ = "models"
    __table_args__ = (_one_of("origin", Origin),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    config: Mapped[dict[str, Any]]
    architecture: Mapped[dict[str, Any]]
    total_params: Mapped[int] = mapped_column(BigInteger)
    active_params: Mapped[int] = mapped_column(BigInteger)
    revision: Mapped[str | None] = mapped_column(String(64))
    hub_safetensors_total: Mapped[int | None] = mapped_column(BigInteger)
    hub_parameter_counts: Mapped[dict[str, int] | None]
    checkpoint_bytes_by_dtype: Mapped[dict[str, int] | None]
    # Other names that resolve to this model (seed files' ``aliases``); None: none listed.
    aliases: Mapped[list[str] | None]
    quantization: Mapped[str | None] = mapped_column(String(64))
    gated: Mapped[bool] = mapped_column(default=False)
    published_total_params: Mapped[int | None] = mapped_column(BigInteger)
    parameter_check: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column()
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ModelRevisionRow(Base):
    """A model's previous config, archived when a newer one replaced it."""

    __tablename__ = "model_revisions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("models.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[str | None] = mapped_column(String(64))
    config: Mapped[dict[str, Any]]
    total_params: Mapped[int] = mapped_column(BigInteger)
    archived_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ImportJobRow(Base):
    """A queued or finished import of one Hub repository, leased by one worker at a time."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        _one_of("status", JobStatus),
        Index("ix_import_jobs_status_next_attempt_at", "status", "next_attempt_at"),
        # One queued or running job per repository and revision (migration 0002).
        Index(
            "uq_import_jobs_active_repo",
            text("lower(repo_id)"),
            text("coalesce(revision, '')"),
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    repo_id: Mapped[str] = mapped_column(String(200))
    revision: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=5)
    error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class HubSweepStateRow(Base):
    """How far the periodic Hub sweep has got for one author."""

    __tablename__ = "hub_sweep_state"

    author: Mapped[str] = mapped_column(String(200), primary_key=True)
    watermark: Mapped[dt.datetime | None]
    last_run_at: Mapped[dt.datetime | None]


class ImporterHeartbeatRow(Base):
    """The last sign of life of one running import worker (migration 0006)."""

    __tablename__ = "importer_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[dt.datetime]
    beat_at: Mapped[dt.datetime]
