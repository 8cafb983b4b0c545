"""Redis Streams operations of the worker; nothing here knows about models or HTTP."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from shared import keys
from shared.redis_client import load_script

log = logging.getLogger(__name__)

_REFRESH_LUA = Path(__file__).with_name("lua") / "refresh_lease.lua"


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
        stream: str = keys.JOB_STREAM,
        group: str = keys.WORKER_GROUP,
    ) -> None:
        self.client = client
        # Blocking reads get a client whose socket timeout outlasts BLOCK.
        self.reader = reader or client
        self.consumer = consumer
        self.stream = stream
        self.group = group
        self._refresh = load_script(client, _REFRESH_LUA)

    async def ensure_group(self) -> None:
        """Create the group (and stream) if missing; from id 0 so nothing queued is lost."""
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
            log.info("created consumer group %s on %s", self.group, self.stream)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_own_pending(self, count: int, after: str = "0") -> list[StreamEntry]:
        """Entries already delivered to this consumer name (a restart with a stable name)."""
        # Any: redis-py types replies as bytes | str; decode_responses makes them str.
        reply: Any = await self.client.xreadgroup(
            self.group, self.consumer, {self.stream: after}, count=count
        )
        return _entries(reply[0][1]) if reply else []

    async def read_new(self, count: int, block_ms: int) -> list[StreamEntry]:
        """Up to ``count`` never-delivered entries, blocking up to ``block_ms`` for the first."""
        reply: Any = await self.reader.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms
        )
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

    async def refresh_lease(self, ids: Sequence[str]) -> set[str]:
        """Reset idle time of ``ids`` still owned by us; returns the ids refreshed."""
        if not ids:
            return set()
        done = await self._refresh(keys=[self.stream], args=[self.group, self.consumer, *ids])
        return set(done)

    async def ack(self, *ids: str) -> int:
        if not ids:
            return 0
        return int(await self.client.xack(self.stream, self.group, *ids))
