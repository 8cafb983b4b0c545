"""The backend's internal API: submit a text, read a task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi import Path as PathParam
from pydantic import Field

from shared.errors import BadRequest, NotFound, store_unavailable_as
from shared.http import IDEMPOTENT_REPLAY_HEADER, USER_ID_HEADER
from shared.responses import JsonResponse
from shared.schemas import TASK_ID_PATTERN, Strict, TaskPage, TaskStatus
from shared.text import TextProblem, check_text

from .cancel import cancel_task
from .deps import StateDep
from .idempotency import Answer

internal = APIRouter(prefix="/internal")


class VerifyRequest(Strict):
    text: str = Field(min_length=1)


UserId = Annotated[str, Header(alias=USER_ID_HEADER, min_length=1, max_length=64)]


@internal.post("/verify")
async def verify(
    body: VerifyRequest,
    user_id: UserId,
    state: StateDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JsonResponse:
    text, limit = body.text, state.settings.max_text_chars
    problem = check_text(text, limit)
    if problem is TextProblem.EMPTY:
        raise BadRequest("text is empty", code="BE-VAL-400")
    if problem is TextProblem.TOO_LONG:
        raise BadRequest(f"text longer than {limit} characters", code="BE-VAL-413", status=413)
    if problem is TextProblem.BINARY:
        raise BadRequest("text contains control or binary characters", code="BE-VAL-400")

    async def submit() -> Answer:
        submitted = await state.verifier.submit(user_id, text)
        if submitted.cached is not None:
            result = submitted.cached.model_dump(mode="json")
            return Answer(200, {"taskId": submitted.task_id, "cached": True, "result": result})
        return Answer(202, {"taskId": submitted.task_id, "queued": True})

    if idempotency_key is None:
        answer = await submit()
    else:
        with store_unavailable_as("BE-DEP-503", "database"):
            answer = await state.idempotency.answer_once(user_id, idempotency_key, text, submit)
    headers = {IDEMPOTENT_REPLAY_HEADER: "true"} if answer.replayed else None
    return JsonResponse(answer.body, status_code=answer.status_code, headers=headers)


@internal.get("/tasks")
async def list_tasks(
    user_id: UserId,
    state: StateDep,
    status: TaskStatus | None = None,
    cursor: Annotated[str | None, Query(pattern=TASK_ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TaskPage:
    with store_unavailable_as("BE-DEP-503", "database"):
        items, next_cursor = await state.tasks.list_for_user(user_id, status, cursor, limit)
    return TaskPage(items=items, nextCursor=next_cursor)


@internal.get("/tasks/{task_id}")
async def get_task(task_id: str, user_id: UserId, state: StateDep) -> JsonResponse:
    if len(task_id) > 64:
        raise NotFound("no such task", code="BE-TASK-404")
    with store_unavailable_as("BE-DEP-503", "database"):
        task = await state.tasks.get_for_user(task_id, user_id)
    if task is None:
        raise NotFound("no such task", code="BE-TASK-404")
    return JsonResponse(task.model_dump(mode="json"))


@internal.delete("/tasks/{task_id}")
async def cancel(
    task_id: Annotated[str, PathParam(pattern=TASK_ID_PATTERN)], user_id: UserId, state: StateDep
) -> JsonResponse:
    with store_unavailable_as("BE-DEP-503", "database"):
        task = await cancel_task(
            state.pool,
            state.redis,
            state.jobs,
            state.settings.callback_url,
            task_id,
            user_id,
        )
    return JsonResponse(task.model_dump(mode="json"))
