"""Tasks that joined another task's job (same text in flight) take its outcome.

The backend lets a submission join the job already verifying the same text instead of
queuing a second one (``joined_task_id``). When the leader's outcome is recorded, every
follower still queued gets the same outcome, in the leader's statement, and an outbox
row for its own push (``shared.events``). Running this again on a repeated delivery is
harmless and picks up any follower that joined late (only those get new rows). Ending
the lead (``inflight:<textHash>``) comes after the commit and is best effort: a lead
left behind expires, and the backend never joins a finished leader.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from shared import events, keys
from shared.redis_client import load_script, queue_script
from shared.schemas import CallbackFailure, CallbackResult

_RELEASE = Path(__file__).with_name("lua") / "release_inflight.lua"


def follower_entries(
    followers: list[tuple[str, str]], outcome: CallbackResult | CallbackFailure
) -> list[events.Entry]:
    """The push rows of the followers (id, user_id) that took the leader's ``outcome``
    (``shared.tasks.finish``, in the leader's statement)."""
    return [
        events.notify_entry(task_id, user_id, events.outcome_event(task_id, outcome))
        for task_id, user_id in followers
    ]


class InflightLead:
    """Forget that a text is being verified, if this leader still leads it."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._release = load_script(client, _RELEASE)

    async def release(self, text_hash: str, leader_id: str) -> None:
        await self._release(keys=[keys.inflight_text(text_hash)], args=[leader_id])

    async def release_all(self, leads: Sequence[tuple[str, str]]) -> None:
        """``release`` of each (textHash, leader taskId), in one round trip."""
        if not leads:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for text_hash, leader_id in leads:
                queue_script(pipe, self._release, [keys.inflight_text(text_hash)], [leader_id])
            replies = await pipe.execute(raise_on_error=False)
        for (text_hash, leader_id), reply in zip(leads, replies, strict=True):
            if isinstance(reply, NoScriptError):
                await self.release(text_hash, leader_id)  # loads the script
            elif isinstance(reply, Exception):
                raise reply
