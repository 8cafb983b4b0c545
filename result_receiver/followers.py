"""Tasks that joined another task's job (same text in flight) take its outcome.

The backend lets a submission join the job already verifying the same text instead of
queuing a second one (``joined_task_id``). When the leader's outcome is recorded, every
follower still queued gets the same outcome and its own push. Running this again on a
repeated delivery is harmless and picks up any follower that joined late.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncpg
import redis.asyncio as aioredis

from shared import keys
from shared.notify import UserNotifier
from shared.redis_client import load_script
from shared.schemas import CallbackFailure, CallbackResult

_RELEASE = Path(__file__).with_name("lua") / "release_inflight.lua"


@dataclass(frozen=True, slots=True)
class Follower:
    task_id: str
    user_id: str


class Followers:
    def __init__(self, pool: asyncpg.Pool, client: aioredis.Redis, notifier: UserNotifier) -> None:
        self._pool = pool
        self._notifier = notifier
        self._release = load_script(client, _RELEASE)

    async def complete(
        self, leader_id: str, text_hash: str, outcome: CallbackResult | CallbackFailure
    ) -> list[Follower]:
        """Give ``outcome`` to the leader's queued followers, push it, end the lead."""
        if isinstance(outcome, CallbackFailure):
            rows = await self._pool.fetch(
                "UPDATE ai_results SET status = 'failed', error_code = $2, error_message = $3,"
                " updated_at = now(), completed_at = now()"
                " WHERE joined_task_id = $1 AND status = 'queued' RETURNING id, user_id",
                leader_id,
                outcome.errorCode,
                outcome.message,
            )
        else:
            rows = await self._pool.fetch(
                "UPDATE ai_results SET status = 'done', mark = $2, reason = $3,"
                " confidence = $4, model = $5, updated_at = now(), completed_at = now()"
                " WHERE joined_task_id = $1 AND status = 'queued' RETURNING id, user_id",
                leader_id,
                outcome.mark.value,
                outcome.reason,
                outcome.confidence,
                outcome.model,
            )
        followers = [Follower(row["id"], row["user_id"]) for row in rows]
        for follower in followers:
            await self._notifier.publish(follower.user_id, _event(follower.task_id, outcome))
        await self._release(keys=[keys.inflight_text(text_hash)], args=[leader_id])
        return followers


def _event(task_id: str, outcome: CallbackResult | CallbackFailure) -> dict[str, object]:
    if isinstance(outcome, CallbackFailure):
        return {
            "type": "failed",
            "taskId": task_id,
            "errorCode": outcome.errorCode,
            "message": outcome.message,
        }
    return {
        "type": "result",
        "taskId": task_id,
        "mark": outcome.mark.value,
        "reason": outcome.reason,
        "confidence": outcome.confidence,
        "cached": False,
    }
