"""``POST /internal/jobs``: validate a job and put it on the stream;
``POST /internal/jobs/batch``: many jobs in one request (backend_service's client sends
the jobs that arrive together, ``shared/coalesce.py``), one round trip to Redis."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field

from shared.errors import PayloadTooLarge, UpstreamUnavailable, store_unavailable_as
from shared.schemas import TRACEPARENT_PATTERN, Job, Strict

from .deps import State, StateDep

internal = APIRouter(prefix="/internal")

MAX_JOBS = 256  # per batch; backend_service sends at most 64


class Enqueued(Strict):
    taskId: str
    streamId: str


class QueuedJob(Strict):
    job: Job
    # The trace of the submit that asked for it (the batch request carries only one).
    traceparent: str | None = Field(default=None, pattern=TRACEPARENT_PATTERN)


class JobBatch(Strict):
    jobs: list[QueuedJob] = Field(min_length=1, max_length=MAX_JOBS)


class NotEnqueued(Strict):
    """One job of a batch left off the stream (the others are on it)."""

    taskId: str
    errorCode: str
    message: str


class BatchEnqueued(Strict):
    results: list[Enqueued | NotEnqueued]


def _too_long(job: Job, state: State) -> bool:
    return len(job.payload) > state.settings.max_payload_chars


def _too_long_message(state: State) -> str:
    return f"payload longer than {state.settings.max_payload_chars} characters"


async def _refuse_when_full(state: State) -> None:
    settings = state.settings
    if await state.queue.backlog() >= settings.max_backlog:
        raise UpstreamUnavailable(
            f"the job queue is full ({settings.max_backlog} jobs waiting), retry later",
            code="AI-BUSY-503",
            headers={"Retry-After": str(settings.busy_retry_after_s)},
        )


@internal.post("/jobs", status_code=202)
async def enqueue(job: Job, state: StateDep) -> Enqueued:
    if _too_long(job, state):
        raise PayloadTooLarge(_too_long_message(state), code="AI-VAL-413")
    with store_unavailable_as("AI-DEP-503", "job queue"):
        await _refuse_when_full(state)
        stream_id = await state.queue.enqueue(job)
    return Enqueued(taskId=job.taskId, streamId=stream_id)


@internal.post("/jobs/batch", status_code=202)
async def enqueue_batch(body: JobBatch, state: StateDep) -> BatchEnqueued:
    """Every job, or a whole-batch 503 when the queue is full; a job too long, or one
    Redis refused, has a ``NotEnqueued`` in its place."""
    too_long = [_too_long(queued.job, state) for queued in body.jobs]
    fit = [(q.job, q.traceparent) for q, long in zip(body.jobs, too_long, strict=True) if not long]
    with store_unavailable_as("AI-DEP-503", "job queue"):
        await _refuse_when_full(state)
        added = iter(await state.queue.enqueue_many(fit))
    results: list[Enqueued | NotEnqueued] = []
    for queued, long in zip(body.jobs, too_long, strict=True):
        task_id = queued.job.taskId
        stream_id = None if long else next(added)
        if isinstance(stream_id, str):
            results.append(Enqueued(taskId=task_id, streamId=stream_id))
        elif stream_id is None:
            results.append(
                NotEnqueued(
                    taskId=task_id, errorCode="AI-VAL-413", message=_too_long_message(state)
                )
            )
        else:
            results.append(
                NotEnqueued(
                    taskId=task_id,
                    errorCode="AI-DEP-503",
                    message=f"job queue refused the job: {stream_id}",
                )
            )
    return BatchEnqueued(results=results)
