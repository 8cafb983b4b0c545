"""Which sockets this instance holds, and their routing entries in Redis.

In-process: userId -> {socketId: Connection}, for delivery. In Redis:
``ws:user:<userId>`` maps socketId -> instanceId so publishers know which instances'
channels to use (see shared.notify). The hash carries a TTL that live instances keep
refreshing, so entries of a crashed instance disappear on their own. Entries that
vanish while we hold their sockets (Redis lost its data, a TTL ran out while Redis was
unreachable) are restored by ``ws_service.recovery``, which also delivers what the
sockets missed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from itertools import islice

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared import keys
from shared.metrics import WS_CONNECTIONS

from .connection import CLOSE_UNAUTHORIZED, Connection

log = logging.getLogger(__name__)

_REFRESH_BATCH = 500


class Hub:
    def __init__(self, redis: aioredis.Redis, instance_id: str, registration_ttl_s: int) -> None:
        self._redis = redis
        self.instance_id = instance_id
        self._ttl = registration_ttl_s
        self._by_user: dict[str, dict[str, Connection]] = {}
        self._emptied = asyncio.Event()
        self._emptied.set()
        self.closed_total = 0  # sockets removed since start (ws_service/heap.py)

    def __len__(self) -> int:
        return sum(len(sockets) for sockets in self._by_user.values())

    def sockets_of(self, user_id: str) -> list[Connection]:
        return list(self._by_user.get(user_id, {}).values())

    async def add(self, conn: Connection) -> None:
        """Register locally first, then in Redis, so no event published after the HSET
        can miss the socket. Raises RedisError (after undoing the local entry)."""
        self._by_user.setdefault(conn.user_id, {})[conn.socket_id] = conn
        WS_CONNECTIONS.inc()
        self._emptied.clear()
        try:
            key = keys.ws_user(conn.user_id)
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, conn.socket_id, self.instance_id)
                pipe.expire(key, self._ttl)
                await pipe.execute()
        except RedisError:
            self._forget(conn)
            if not self._by_user:
                self._emptied.set()
            raise

    async def remove(self, conn: Connection) -> None:
        if not self._forget(conn):
            return
        self.closed_total += 1
        try:
            await self._redis.hdel(keys.ws_user(conn.user_id), conn.socket_id)
        except RedisError as exc:
            # The hash's TTL removes it eventually; publishing to us meanwhile is harmless.
            log.warning("could not unregister socket %s: %s", conn.socket_id, exc)
        finally:
            # Signalled only once Redis is clean too, for close_all's wait.
            if not self._by_user:
                self._emptied.set()

    def _forget(self, conn: Connection) -> bool:
        sockets = self._by_user.get(conn.user_id)
        if sockets is None or sockets.pop(conn.socket_id, None) is None:
            return False
        WS_CONNECTIONS.dec()
        if not sockets:
            del self._by_user[conn.user_id]
        return True

    def deliver(self, user_id: str, text: str, event_id: str | None = None) -> int:
        """Queue ``text`` on every local socket of ``user_id``; never waits."""
        sent = 0
        for conn in self.sockets_of(user_id):
            sent += conn.push(text, event_id)
        return sent

    def admins(self) -> list[Connection]:
        return [
            conn for sockets in self._by_user.values() for conn in sockets.values() if conn.is_admin
        ]

    def shut_key(self, key_id: str) -> int:
        """Close every local socket opened with a revoked API key; how many."""
        closed = 0
        for sockets in list(self._by_user.values()):
            for conn in list(sockets.values()):
                if conn.key_id == key_id:
                    conn.shut(CLOSE_UNAUTHORIZED, "API key revoked")
                    closed += 1
        return closed

    def users(self) -> list[str]:
        return list(self._by_user)

    async def watch_stuck_writes(self, every_s: float = 1.0) -> None:
        """Shut sockets whose write has waited past their send timeout (a client that
        stopped reading), checking all of them every ``every_s``: one sweep instead
        of a timer around each of 20,000 writes a second."""
        while True:
            await asyncio.sleep(every_s)
            now = time.monotonic()
            for sockets in list(self._by_user.values()):
                for conn in list(sockets.values()):
                    conn.shut_if_stuck(now)

    def begin_catch_up(self) -> None:
        """Live delivery may have had a gap: every set-up socket holds live events back
        until the log has been read (``Connection.begin_catch_up``)."""
        for sockets in self._by_user.values():
            for conn in sockets.values():
                if conn.live:
                    conn.begin_catch_up()

    async def refresh(self) -> set[str]:
        """Rewrite every local entry and its TTL; return the users some of whose entries
        were missing (their sockets may have missed events). Raises RedisError."""
        missing: set[str] = set()
        users = iter([(u, s) for u, s in self._by_user.items() if s])
        while batch := list(islice(users, _REFRESH_BATCH)):
            async with self._redis.pipeline(transaction=False) as pipe:
                for user_id, sockets in batch:
                    key = keys.ws_user(user_id)
                    pipe.hset(key, mapping=dict.fromkeys(sockets, self.instance_id))
                    pipe.expire(key, self._ttl)
                replies = await pipe.execute()
            # HSET answers how many fields it added: any means an entry had vanished.
            missing.update(u for (u, _), added in zip(batch, replies[::2], strict=True) if added)
        return missing

    async def close_all(self, code: int, reason: str, timeout_s: float) -> None:
        """Shut every socket and wait (bounded) for their handlers to unregister them."""
        for user_id in list(self._by_user):
            for conn in self.sockets_of(user_id):
                conn.shut(code, reason)
        try:
            async with asyncio.timeout(timeout_s):
                await self._emptied.wait()
        except TimeoutError:
            log.warning("%d sockets still open after shutdown grace period", len(self))
        # Whatever did not finish in time is unregistered here.
        for user_id in list(self._by_user):
            for conn in self.sockets_of(user_id):
                await self.remove(conn)
