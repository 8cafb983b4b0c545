"""Redis Streams operations of the worker; nothing here knows about models or HTTP."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from shared import keys
from shared.redis_client import get_many, load_script

log = logging.getLogger(__name__)

_LUA = Path(__file__).with_name("lua")
# Failed attempts are kept this long at most (a job that is never finished or
# dead-lettered must not leave its history behind forever).
_ATTEMPTS_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One delivered entry; ``fields`` is empty when the entry was deleted meanwhile."""

    id: str
    fields: dict[str, str]


def _entries(raw: Sequence[tuple[str | None, dict[str, str] | None]]) -> list[StreamEntry]:
    return [StreamEntry(entry_id, dict(fields or {})) for entry_id, fields in raw if entry_id]


class JobQueue:
    """The job stream as seen by one consumer of the ``workers`` group."""

    def __init__(
        self,
        client: aioredis.Redis,
        consumer: str,
        *,
        reader: aioredis.Redis | None = None,
    ) -> None:
        self.client = client
        # Blocking reads get a client whose socket timeout outlasts BLOCK.
        self.reader = reader or client
        self.consumer = consumer
        # Names read now, not at import: a test may give each test its own key prefix.
        self.stream = keys.JOB_STREAM
        self.group = keys.WORKER_GROUP
        self.dlq = keys.JOB_DLQ_STREAM
        self._refresh = load_script(client, _LUA / "refresh_lease.lua")
        self._retry_claim = load_script(client, _LUA / "retry_claim.lua")
        self._dead_letter = load_script(client, _LUA / "dead_letter.lua")
        self._hand_back = load_script(client, _LUA / "hand_back.lua")

    async def ensure_group(self) -> None:
        """Create the group (and stream) if missing; from id 0 so nothing queued is lost."""
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            log.info("created consumer group %s on %s", self.group, self.stream)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _group_lost(self) -> None:
        # Redis lost its data (a restart without persistence): the group went with it.
        # Recreate it, or no worker would read again until one restarts; the backend's
        # sweeper re-enqueues the lost jobs.
        log.warning("consumer group %s is gone; creating it again", self.group)
        await self.ensure_group()

    async def read_own_pending(self, count: int, after: str = "0") -> list[StreamEntry]:
        """Entries already delivered to this consumer name (a restart with a stable name)."""
        return await self._read(self.client, after, count, block_ms=None)

    async def read_new(self, count: int, block_ms: int) -> list[StreamEntry]:
        """Up to ``count`` never-delivered entries, blocking up to ``block_ms`` for the first."""
        return await self._read(self.reader, ">", count, block_ms)

    async def _read(
        self, client: aioredis.Redis, start: str, count: int, block_ms: int | None
    ) -> list[StreamEntry]:
        try:
            # Any: redis-py types replies as bytes | str; decode_responses makes them str.
            reply: Any = await client.xreadgroup(
                self.group, self.consumer, {self.stream: start}, count=count, block=block_ms
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # Redis lost its data between our start and this read: nothing of ours is
            # pending any more (the sweeper re-enqueues the lost jobs).
            await self._group_lost()
            return []
        return _entries(reply[0][1]) if reply else []

    async def claim_stale(self, min_idle_ms: int, limit: int) -> list[StreamEntry]:
        """Take over up to ``limit`` entries idle longer than ``min_idle_ms`` (dead workers)."""
        claimed: list[StreamEntry] = []
        cursor = "0-0"
        while len(claimed) < limit:
            reply: Any = await self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=min_idle_ms,
                start_id=cursor,
                count=limit - len(claimed),
            )
            cursor, raw = reply[0], reply[1]
            # Redis >= 7 also returns ids whose entries were deleted; it has already
            # dropped them from the pending list, so there is nothing to do for them.
            claimed.extend(e for e in _entries(raw) if e.fields)
            if cursor == "0-0":
                break
        return claimed

    async def has_stale(self, min_idle_ms: int) -> bool:
        """Whether any pending entry has been idle longer than ``min_idle_ms``."""
        rows: Any = await self.client.xpending_range(
            self.stream, self.group, min="-", max="+", count=1, idle=min_idle_ms
        )
        return bool(rows)

    async def refresh_lease(self, ids: Sequence[str]) -> set[str]:
        """Reset idle time of ``ids`` still owned by us; returns the ids refreshed."""
        if not ids:
            return set()
        done = await self._refresh(keys=[self.stream], args=[self.group, self.consumer, *ids])
        return set(done)

    async def hand_back(self, ids: Sequence[str], lease_ms: int) -> int:
        """Make our pending ``ids`` immediately stale for the other workers; how many."""
        if not ids:
            return 0
        done = await self._hand_back(
            keys=[self.stream], args=[self.group, self.consumer, lease_ms, *ids]
        )
        return len(done)

    async def ack(self, *ids: str, task_ids: Sequence[str] = ()) -> int:
        """Acknowledge ``ids``, delete them from the stream and forget their attempts
        (and the stored results of ``task_ids``).

        Deleting keeps the stream to unfinished jobs only: it never grows with history,
        and its length is the backlog (one consumer group reads it).
        """
        if not ids:
            return 0
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, *ids)
            pipe.xdel(self.stream, *ids)
            pipe.delete(
                *(keys.job_attempts(i) for i in ids), *(keys.worker_result(t) for t in task_ids)
            )
            acked, _, _ = await pipe.execute()
        return int(acked)

    async def store_results(self, results: dict[str, bytes], ttl_s: int) -> None:
        """Keep computed results (taskId -> callback JSON) until acked or ``ttl_s``."""
        if not results:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for task_id, body in results.items():
                pipe.set(keys.worker_result(task_id), body, ex=ttl_s)
            await pipe.execute()

    async def stored_results(self, task_ids: Sequence[str]) -> dict[str, str]:
        """The stored results of those of ``task_ids`` that have one."""
        if not task_ids:
            return {}
        found: Any = await self.client.mget([keys.worker_result(t) for t in task_ids])
        return {t: body for t, body in zip(task_ids, found, strict=True) if body is not None}

    async def cancelled(self, task_ids: Sequence[str]) -> set[str]:
        """Those of ``task_ids`` whose owner cancelled them (backend_service/cancel.py)."""
        if not task_ids:
            return set()
        found = await get_many(self.client, [keys.task_cancelled(t) for t in task_ids])
        return {t for t, mark in zip(task_ids, found, strict=True) if mark is not None}

    # -- attempts and dead letters ----------------------------------------------------

    async def deliveries(self, entry_id: str) -> tuple[str, int] | None:
        """(owner, delivery count) of a pending entry, from Redis' pending list."""
        rows: Any = await self.client.xpending_range(
            self.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        if not rows:
            return None
        return str(rows[0]["consumer"]), int(rows[0]["times_delivered"])

    async def delivery_counts(self, entry_ids: list[str]) -> dict[str, int]:
        """Delivery counts of pending entries (one round trip); absent ones are left out."""
        async with self.client.pipeline(transaction=False) as pipe:
            for entry_id in entry_ids:
                pipe.xpending_range(self.stream, self.group, min=entry_id, max=entry_id, count=1)
            replies: list[Any] = await pipe.execute()
        return {
            entry_id: int(rows[0]["times_delivered"])
            for entry_id, rows in zip(entry_ids, replies, strict=True)
            if rows
        }

    async def record_attempt(self, entry_id: str, attempt: dict[str, Any]) -> None:
        """Append one failed attempt (JSON) to the entry's history."""
        key = keys.job_attempts(entry_id)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.rpush(key, orjson.dumps(attempt).decode())
            pipe.expire(key, _ATTEMPTS_TTL_S)
            await pipe.execute()

    async def retry_claim(self, entry_id: str) -> tuple[int, StreamEntry] | None:
        """Claim our own entry again (a new delivery); None if it is no longer ours."""
        reply: Any = await self._retry_claim(
            keys=[self.stream], args=[self.group, self.consumer, entry_id]
        )
        if not reply:
            return None
        flat = list(reply[1])
        return int(reply[0]), StreamEntry(entry_id, dict(zip(flat[::2], flat[1::2], strict=True)))

    async def dead_letter(
        self,
        entry_id: str,
        error_code: str,
        last_error: str,
        callback: str,
        task_id: str | None = None,
    ) -> tuple[str, int] | None:
        """Move our pending entry to the DLQ with its history: (DLQ id, deliveries).

        Atomic (one script): the copy, XACK and XDEL (and dropping the attempts and the
        stored result of ``task_id``) happen together or not at all.
        None if the entry is not ours (another worker took it over) or gone.
        """
        stored = [keys.worker_result(task_id)] if task_id else []
        reply: Any = await self._dead_letter(
            keys=[self.stream, self.dlq, keys.job_attempts(entry_id), *stored],
            args=[self.group, self.consumer, entry_id, error_code, last_error, callback],
        )
        return (str(reply[0]), int(reply[1])) if reply else None
