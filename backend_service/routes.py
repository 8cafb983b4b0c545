"""The backend's internal API: submit a text, read a task."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import APIRouter, Header
from pydantic import Field

from shared.errors import BadRequest, NotFound, UpstreamUnavailable
from shared.http import USER_ID_HEADER
from shared.responses import JsonResponse
from shared.schemas import Strict

from .deps import StateDep

internal = APIRouter(prefix="/internal")


class VerifyRequest(Strict):
    text: str = Field(min_length=1)


UserId = Annotated[str, Header(alias=USER_ID_HEADER, min_length=1, max_length=64)]


@internal.post("/verify")
async def verify(body: VerifyRequest, user_id: UserId, state: StateDep) -> JsonResponse:
    text, limit = body.text, state.settings.max_text_chars
    if not text.strip():
        raise BadRequest("text is empty", code="BE-VAL-400")
    if len(text) > limit:
        raise BadRequest(f"text longer than {limit} characters", code="BE-VAL-413", status=413)
    if "\x00" in text:
        raise BadRequest("text contains NUL characters", code="BE-VAL-400")
    submitted = await state.verifier.submit(user_id, text)
    if submitted.cached is not None:
        result = submitted.cached.model_dump(mode="json")
        return JsonResponse({"taskId": submitted.task_id, "cached": True, "result": result})
    return JsonResponse({"taskId": submitted.task_id, "queued": True}, status_code=202)


@internal.get("/tasks/{task_id}")
async def get_task(task_id: str, user_id: UserId, state: StateDep) -> JsonResponse:
    if len(task_id) > 64:
        raise NotFound("no such task", code="BE-TASK-404")
    try:
        task = await state.tasks.get_for_user(task_id, user_id)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise UpstreamUnavailable("database unavailable", code="BE-DEP-503") from exc
    if task is None:
        raise NotFound("no such task", code="BE-TASK-404")
    return JsonResponse(task.model_dump(mode="json"))
