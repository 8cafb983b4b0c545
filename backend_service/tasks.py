"""The backend's task rows, bound to its pool (the statements are ``shared.tasks``)."""

from __future__ import annotations

import asyncpg

from shared import tasks
from shared.schemas import TaskPublic, TextVerdict
from shared.tasks import NewTask


class TaskRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_queued(self, task: NewTask, job_token_hash: str) -> None:
        await tasks.insert_queued(self._pool, task, job_token_hash)

    async def create_cached(self, task: NewTask, verdict: TextVerdict) -> None:
        await tasks.insert_cached(self._pool, task, verdict)

    async def join(self, task_id: str, leader_id: str) -> bool:
        return await tasks.join(self._pool, task_id, leader_id)

    async def mark_failed(self, task_id: str, error_code: str, message: str) -> None:
        await tasks.fail_queued(self._pool, task_id, error_code, message)

    async def get_for_user(self, task_id: str, user_id: str) -> TaskPublic | None:
        return await tasks.get_for_user(self._pool, task_id, user_id)

    async def list_for_user(
        self, user_id: str, status: str | None, cursor: str | None, limit: int
    ) -> tuple[list[TaskPublic], str | None]:
        return await tasks.list_for_user(
            self._pool, user_id, status=status, before_id=cursor, limit=limit
        )
