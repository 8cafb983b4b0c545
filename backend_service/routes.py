"""The backend's internal API: submit a text, read a task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import Field

from shared.errors import BadRequest, NotFound, store_unavailable_as
from shared.http import USER_ID_HEADER
from shared.responses import JsonResponse
from shared.schemas import Strict
from shared.text import TextProblem, check_text

from .deps import StateDep

internal = APIRouter(prefix="/internal")


class VerifyRequest(Strict):
    text: str = Field(min_length=1)


UserId = Annotated[str, Header(alias=USER_ID_HEADER, min_length=1, max_length=64)]


@internal.post("/verify")
async def verify(body: VerifyRequest, user_id: UserId, state: StateDep) -> JsonResponse:
    text, limit = body.text, state.settings.max_text_chars
    problem = check_text(text, limit)
    if problem is TextProblem.EMPTY:
        raise BadRequest("text is empty", code="BE-VAL-400")
    if problem is TextProblem.TOO_LONG:
        raise BadRequest(f"text longer than {limit} characters", code="BE-VAL-413", status=413)
    if problem is TextProblem.BINARY:
        raise BadRequest("text contains control or binary characters", code="BE-VAL-400")
    submitted = await state.verifier.submit(user_id, text)
    if submitted.cached is not None:
        result = submitted.cached.model_dump(mode="json")
        return JsonResponse({"taskId": submitted.task_id, "cached": True, "result": result})
    return JsonResponse({"taskId": submitted.task_id, "queued": True}, status_code=202)


@internal.get("/tasks/{task_id}")
async def get_task(task_id: str, user_id: UserId, state: StateDep) -> JsonResponse:
    if len(task_id) > 64:
        raise NotFound("no such task", code="BE-TASK-404")
    with store_unavailable_as("BE-DEP-503", "database"):
        task = await state.tasks.get_for_user(task_id, user_id)
    if task is None:
        raise NotFound("no such task", code="BE-TASK-404")
    return JsonResponse(task.model_dump(mode="json"))
