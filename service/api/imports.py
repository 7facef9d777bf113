"""POST/GET /v1/imports and GET /v1/imports/{job_id}: Hub import jobs.

POST only queues a job; a worker runs it (``CAPPLAN_IMPORTER_ENABLED`` on some replica, or
``capplan hub import --wait``). Poll the job until it is ``succeeded`` or ``failed``. A
replica that runs no worker itself queues a job only while some worker's heartbeat is fresh
(service/importer/heartbeat.py); otherwise 503 with ``Retry-After``, naming the setting.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.auth import ADMIN_SECURITY, require_admin
from service.api.examples import answer, body
from service.api.problems import READ_PROBLEMS, WRITE_PROBLEMS, Problem, problem
from service.api.query import strict_query
from service.api.strict_body import strict_json_body
from service.db.models import ImportJobRow, JobStatus
from service.db.types import utcnow
from service.importer.heartbeat import Heartbeats, retry_after_s
from service.importer.ids import (
    REPO_ID_MAX_LENGTH,
    REPO_ID_PATTERN,
    REVISION_MAX_LENGTH,
    REVISION_PATTERN,
)
from service.importer.queue import JobQueue
from service.settings import Settings, env_name

HubRepoId = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=REPO_ID_MAX_LENGTH,
        pattern=REPO_ID_PATTERN,
        examples=["meta-llama/Llama-3.2-1B"],
    ),
]
HubRevision = Annotated[
    str, msgspec.Meta(min_length=1, max_length=REVISION_MAX_LENGTH, pattern=REVISION_PATTERN)
]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
StatusFilter = Annotated[JobStatus | None, QueryParameter(description="only jobs in this status")]

NO_WORKER = (
    "No import worker is running (none has a heartbeat fresher than "
    "CAPPLAN_IMPORTER_HEARTBEAT_STALE_S), so the job would never run; or the database is "
    "unreachable. Retry after Retry-After seconds; set CAPPLAN_IMPORTER_ENABLED=true on a replica"
)
ENQUEUE_PROBLEMS = {
    **{code: WRITE_PROBLEMS[code] for code in (400, 401, 403)},
    503: problem(
        NO_WORKER,
        503,
        detail="no import worker is running: no worker heartbeat in the last 30 s "
        "(CAPPLAN_IMPORTER_HEARTBEAT_STALE_S), so this job would never run; set "
        "CAPPLAN_IMPORTER_ENABLED=true on at least one replica, or run "
        "`capplan hub import --wait`",
    ),
}
LIST_PROBLEMS = {400: READ_PROBLEMS[400]}
JOB_PROBLEMS = {400: READ_PROBLEMS[400], 404: problem("No such import job", 404)}


class ImportRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A Hub repository to import, at ``revision`` (default: its main branch)."""

    repo_id: Annotated[HubRepoId, msgspec.Meta(description="Hugging Face repo id (org/name)")]
    revision: (
        Annotated[HubRevision, msgspec.Meta(description="Branch, tag or commit; default: main")]
        | None
    ) = None


class ImportJob(msgspec.Struct, frozen=True, kw_only=True):
    """An import job. ``error`` says why it failed, or why the last attempt did.

    ``next_attempt_at`` is when a queued job is due; ``lease_expires_at`` is when a running
    job is handed to another worker if its worker stops answering.
    """

    id: Annotated[str, msgspec.Meta(description="Job id")]
    repo_id: Annotated[str, msgspec.Meta(description="Hugging Face repo id being imported")]
    revision: (
        Annotated[str, msgspec.Meta(description="Branch, tag or commit asked for; null: main")]
        | None
    )
    status: Annotated[
        JobStatus,
        msgspec.Meta(
            description="Life cycle of a Hub import job: queued, running, succeeded or failed."
        ),
    ]
    attempts: Annotated[int, msgspec.Meta(description="Attempts so far (count)")]
    max_attempts: Annotated[
        int, msgspec.Meta(description="Attempts before the job fails for good (count)")
    ]
    error: (
        Annotated[
            str,
            msgspec.Meta(description="Why it failed, or why the last attempt did; null: no error"),
        ]
        | None
    )
    next_attempt_at: Annotated[
        dt.datetime, msgspec.Meta(description="When a queued job is due (UTC)")
    ]
    lease_expires_at: (
        Annotated[
            dt.datetime,
            msgspec.Meta(
                description=(
                    "When a running job passes to another worker if its worker stops answering "
                    "(UTC)"
                )
            ),
        ]
        | None
    )
    created_at: Annotated[dt.datetime, msgspec.Meta(description="When the job was queued (UTC)")]
    started_at: (
        Annotated[
            dt.datetime,
            msgspec.Meta(description="When the first attempt started (UTC); null: not yet"),
        ]
        | None
    )
    finished_at: (
        Annotated[dt.datetime, msgspec.Meta(description="When the job ended (UTC); null: not yet")]
        | None
    )


class ImportJobPage(msgspec.Struct, frozen=True, kw_only=True):
    items: Annotated[list[ImportJob], msgspec.Meta(description="Jobs of this page, newest first")]
    total: Annotated[int, msgspec.Meta(description="Jobs matching the filter, all pages (count)")]
    limit: Annotated[int, msgspec.Meta(description="Most jobs per page, as asked (count)")]
    offset: Annotated[int, msgspec.Meta(description="Jobs skipped before this page (count)")]


def import_job(row: ImportJobRow) -> ImportJob:
    fields = {f.name: getattr(row, f.name) for f in msgspec.structs.fields(ImportJob)}
    return ImportJob(**{**fields, "status": JobStatus(row.status)})


async def require_live_worker(session: AsyncSession, settings: Settings) -> None:
    """503 with ``Retry-After`` unless some import worker beat within the staleness bound."""
    stale_s = settings.importer_heartbeat_stale_s
    if await Heartbeats(session).live_worker(now=utcnow(), stale_s=stale_s):
        return
    raise Problem(
        503,
        f"no import worker is running: no worker heartbeat in the last {stale_s:g} s "
        f"({env_name('importer_heartbeat_stale_s')}), so this job would never run; set "
        f"{env_name('importer_enabled')}=true on at least one replica, or run "
        "`capplan hub import --wait`",
        headers={"Retry-After": str(retry_after_s(stale_s))},
    )


class ImportController(Controller):
    path = "/v1/imports"
    tags = ["imports"]
    before_request = staticmethod(strict_json_body)

    @post(
        "/",
        status_code=202,
        guards=[require_admin],
        security=ADMIN_SECURITY,
        responses={**ENQUEUE_PROBLEMS, **answer(ImportJob, "import_create", "Queued", 202)},
        summary="Queue an import of a Hugging Face model (admin)",
        description=(
            "Returns the queued job; if one is already queued or running for the same "
            "repository and revision, returns that one instead. On a replica that runs no "
            "import worker itself (CAPPLAN_IMPORTER_ENABLED=false), 503 with Retry-After "
            "unless another worker's heartbeat is fresh: a job no worker runs is not queued."
        ),
        operation_class=body("import_create", "Qwen3-4B"),
    )
    async def create_import(
        self,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        data: JSONBody[ImportRequest],
    ) -> ImportJob:
        if not settings.runs_importer:
            await require_live_worker(db_session, settings)
        job, _ = await JobQueue(db_session).enqueue(
            data.repo_id, data.revision, max_attempts=settings.importer_max_attempts
        )
        return import_job(job)

    @get(
        "/",
        responses={**LIST_PROBLEMS, **answer(ImportJobPage, "import_list", "The newest job")},
        summary="List import jobs, newest first (paginated)",
        before_request=strict_query,
    )
    async def list_imports(
        self,
        db_session: NamedDependency[AsyncSession],
        status: StatusFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ImportJobPage:
        page = await JobQueue(db_session).find(status=status, limit=limit, offset=offset)
        return ImportJobPage(
            items=[import_job(row) for row in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @get(
        "/{job_id:str}",
        responses={**JOB_PROBLEMS, **answer(ImportJob, "import_get", "A queued job")},
        summary="One import job",
    )
    async def get_import(
        self,
        db_session: NamedDependency[AsyncSession],
        job_id: Annotated[str, PathParameter(min_length=1, max_length=64)],
    ) -> ImportJob:
        row = await JobQueue(db_session).get(job_id)
        if row is None:
            raise Problem(404, f"import job '{job_id}' does not exist; GET /v1/imports lists them")
        return import_job(row)
