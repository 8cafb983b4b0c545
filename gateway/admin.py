"""``/v1/admin/*``: the operators' API, relayed to backend_service's
``/internal/admin/*``. Only admins pass (403 ``GW-ADMIN-403``, 401 without a token);
the backend checks the role again against the users table."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.clients.auth import Identity
from shared.errors import Forbidden
from shared.schemas import ErrorBody

from .access import User, call_as, error_responses, relay
from .deps import StateDep


class NotAdmin(Forbidden, code="GW-ADMIN-403", message="this needs the admin role"): ...


async def require_admin(user: User) -> Identity:
    if not user.is_admin:
        raise NotAdmin()
    return user


Admin = Annotated[Identity, Depends(require_admin)]

_ERRORS = error_responses(401, 403, 422, 503)
admin = APIRouter(prefix="/v1/admin", tags=["admin"], responses=_ERRORS)


class ConsumerView(BaseModel):
    name: str
    inFlight: int
    idleMs: int
    lastSeenMs: int


class IntakeView(BaseModel):
    paused: bool
    reason: str | None
    by: str | None = Field(description="user id of the admin who switched it last")
    at: str | None


class PendingEntryView(BaseModel):
    entryId: str
    consumer: str
    idleMs: int = Field(description="since it was last delivered")
    deliveries: int = Field(description="how many times it was delivered (retries count)")


class QueueView(BaseModel):
    streamLength: int
    backlog: int = Field(description="entries not yet acknowledged (undelivered + pending)")
    pending: int = Field(description="delivered to a worker, not yet acknowledged")
    oldestPendingAgeS: float
    dlq: int
    consumers: list[ConsumerView]
    pendingEntries: list[PendingEntryView] = Field(
        description="the oldest pending entries (at most 50), each with its worker, idle "
        "time and delivery count"
    )
    finishedLastMinute: int
    intake: IntakeView


class IntakeChange(BaseModel):
    paused: bool
    reason: str | None = Field(default=None, max_length=500)


class AuditEntry(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    target: str
    before: Any
    after: Any
    reason: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    nextCursor: int | None


async def _backend(
    state: StateDep, user: Identity, method: str, path: str, **kwargs: Any
) -> Response:
    path = f"/internal/admin{path}"
    upstream = await call_as(user, state.backend_http, "backend_service", method, path, **kwargs)
    return relay(upstream, None)


@admin.get("/queue", responses={200: {"model": QueueView}})
async def queue(state: StateDep, user: Admin) -> Response:
    """The job queue at a glance: backlog, pending per worker, the oldest pending job's
    age, dead letters, workers, the intake switch and the last minute's throughput."""
    return await _backend(state, user, "GET", "/queue")


@admin.post("/intake", responses={200: {"model": IntakeView}})
async def intake(body: IntakeChange, state: StateDep, user: Admin) -> Response:
    """Pause or resume the intake: while paused, new cache misses answer 503
    ``BE-PAUSED-503`` with Retry-After on every instance within 2 s; cache hits and task
    reads still work. Audited."""
    return await _backend(state, user, "POST", "/intake", json=body.model_dump())


@admin.get("/audit", responses={200: {"model": AuditPage}})
async def audit(
    state: StateDep,
    user: Admin,
    cursor: Annotated[int | None, Query(ge=1, description="nextCursor of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Every admin action, newest first (who, when, action, target, before, after,
    reason), from an append-only table."""
    params: dict[str, int] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    return await _backend(state, user, "GET", "/audit", params=params)


# -- dead letters -----------------------------------------------------------------------

ENTRY_ID = r"^\d{1,20}-\d{1,20}$"
EntryId = Annotated[str, PathParam(pattern=ENTRY_ID)]


class Attempt(BaseModel):
    attempt: int
    worker: str
    errorCode: str
    error: str
    at: str


class DeadLetter(BaseModel):
    entryId: str
    diedAt: str
    taskId: str | None
    userId: str | None
    errorCode: str | None
    lastError: str | None
    deliveries: int
    failureCallback: str | None = Field(description="what became of the failure callback")
    attempts: list[Attempt]


class DeadLetterDetail(DeadLetter):
    job: dict[str, str] = Field(description="the job's fields (never its job_token)")


class DeadLetterPage(BaseModel):
    items: list[DeadLetter]
    nextCursor: str | None


class Replay(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class ActionResult(BaseModel):
    entryId: str
    taskId: str | None = None
    replayed: bool | None = None
    discarded: bool | None = None
    why: str | None = Field(default=None, description="why nothing was done")


@admin.get("/dlq", responses={200: {"model": DeadLetterPage}})
async def dead_letters(
    state: StateDep,
    user: Admin,
    cursor: Annotated[str | None, Query(pattern=ENTRY_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Dead letters, newest first: each with its task, error, attempt history and when
    it died."""
    params: dict[str, str | int] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    return await _backend(state, user, "GET", "/dlq", params=params)


@admin.get(
    "/dlq/{entryId}", responses={200: {"model": DeadLetterDetail}, 404: {"model": ErrorBody}}
)
async def dead_letter(entryId: EntryId, state: StateDep, user: Admin) -> Response:
    """One dead letter with its job's fields."""
    return await _backend(state, user, "GET", f"/dlq/{entryId}")


@admin.post("/dlq/{entryId}/replay", responses={200: {"model": ActionResult}})
async def replay(entryId: EntryId, body: Replay, state: StateDep, user: Admin) -> Response:
    """Run the job again under a new job_token: the task goes back to ``queued`` (stage
    ``replayed``) and its user later gets exactly one final event. A second replay of the
    same entry does nothing and says so. Audited."""
    return await _backend(state, user, "POST", f"/dlq/{entryId}/replay", json=body.model_dump())


class DeadLetterFilter(BaseModel):
    errorCode: str | None = Field(default=None, max_length=64)
    olderThanS: float | None = Field(default=None, ge=0, description="died more than this ago")
    newerThanS: float | None = Field(default=None, ge=0, description="died less than this ago")
    limit: int = Field(default=100, ge=1, le=1000)
    reason: str | None = Field(default=None, max_length=500)


class BulkResult(BaseModel):
    matched: int
    items: list[ActionResult]


@admin.post("/dlq/replay", responses={200: {"model": BulkResult}})
async def replay_many(body: DeadLetterFilter, state: StateDep, user: Admin) -> Response:
    """Replay every dead letter matching the filter (error code, age), oldest first, as
    if one by one: each is replayed once however often this is sent. Audited per entry."""
    return await _backend(state, user, "POST", "/dlq/replay", json=body.model_dump())


@admin.post("/dlq/discard", responses={200: {"model": BulkResult}})
async def discard_many(body: DeadLetterFilter, state: StateDep, user: Admin) -> Response:
    """Discard every dead letter matching the filter, oldest first (OPS-DISCARDED, each
    user told). Audited per entry."""
    return await _backend(state, user, "POST", "/dlq/discard", json=body.model_dump())


@admin.delete("/dlq/{entryId}", responses={200: {"model": ActionResult}})
async def discard(
    entryId: EntryId,
    state: StateDep,
    user: Admin,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Give up on the job: its task fails with ``OPS-DISCARDED`` and its user is told.
    Idempotent. Audited."""
    params = {"reason": reason} if reason else {}
    return await _backend(state, user, "DELETE", f"/dlq/{entryId}", params=params)


# -- tasks ------------------------------------------------------------------------------

TASK_ID = r"^[0-9A-Za-z]{1,64}$"
TaskId = Annotated[str, PathParam(pattern=TASK_ID)]


class TaskRow(BaseModel):
    taskId: str
    userId: str
    status: Literal["queued", "done", "failed"]
    errorCode: str | None
    cached: bool
    createdAt: str
    completedAt: str | None


class TaskPage(BaseModel):
    items: list[TaskRow]
    nextCursor: str | None


class Retried(BaseModel):
    taskId: str
    retried: bool
    why: str | None = None


@admin.get("/tasks", responses={200: {"model": TaskPage}})
async def find_tasks(
    state: StateDep,
    user: Admin,
    status: Annotated[Literal["queued", "done", "failed"] | None, Query()] = None,
    owner: Annotated[str | None, Query(alias="user", max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 time")] = None,
    cursor: Annotated[str | None, Query(pattern=TASK_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Find tasks by status, owner (user id) and creation time, newest first."""
    params: dict[str, str | int] = {"limit": limit}
    for name, value in (("status", status), ("user", owner), ("cursor", cursor)):
        if value is not None:
            params[name] = value
    if since is not None:
        params["since"] = since.isoformat()
    return await _backend(state, user, "GET", "/tasks", params=params)


@admin.post("/tasks/{taskId}/retry", responses={200: {"model": Retried}})
async def retry_task(taskId: TaskId, body: Replay, state: StateDep, user: Admin) -> Response:
    """Run a failed task again (stage ``replayed``); its user gets one new final event.
    Anything but a failed task is left alone and said so. Audited."""
    return await _backend(state, user, "POST", f"/tasks/{taskId}/retry", json=body.model_dump())


class WorkersChange(BaseModel):
    paused: bool
    reason: str | None = Field(default=None, max_length=500)


class WorkersView(BaseModel):
    paused: bool
    by: str
    at: str


@admin.post("/workers", responses={200: {"model": WorkersView}})
async def workers(body: WorkersChange, state: StateDep, user: Admin) -> Response:
    """Pause the workers (they read no new jobs and finish what they hold) or resume
    them (they read again within a second). Audited."""
    return await _backend(state, user, "POST", "/workers", json=body.model_dump())
