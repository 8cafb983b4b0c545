"""``POST /internal/jobs``: validate a job and put it on the stream."""

from __future__ import annotations

from fastapi import APIRouter

from shared.errors import PayloadTooLarge, UpstreamUnavailable, store_unavailable_as
from shared.schemas import Job, Strict

from .deps import StateDep

internal = APIRouter(prefix="/internal")


class Enqueued(Strict):
    taskId: str
    streamId: str


@internal.post("/jobs", status_code=202)
async def enqueue(job: Job, state: StateDep) -> Enqueued:
    settings = state.settings
    if len(job.payload) > settings.max_payload_chars:
        raise PayloadTooLarge(
            f"payload longer than {settings.max_payload_chars} characters",
            code="AI-VAL-413",
        )
    with store_unavailable_as("AI-DEP-503", "job queue"):
        if await state.queue.backlog() >= settings.max_backlog:
            raise UpstreamUnavailable(
                f"the job queue is full ({settings.max_backlog} jobs waiting), retry later",
                code="AI-BUSY-503",
                headers={"Retry-After": str(settings.busy_retry_after_s)},
            )
        stream_id = await state.queue.enqueue(job)
    return Enqueued(taskId=job.taskId, streamId=stream_id)
