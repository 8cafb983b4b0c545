"""A stuck client is cut off without delaying anyone else."""

from __future__ import annotations

import asyncio
from typing import cast

import redis.asyncio as aioredis
from starlette.websockets import WebSocket

from ws_service.connection import Connection
from ws_service.hub import Hub


class _Peer:
    """Stands in for a Starlette WebSocket; ``stuck`` peers never finish a send."""

    def __init__(self, *, stuck: bool) -> None:
        self.stuck = stuck
        self.sent: list[str] = []

    async def send_text(self, text: str) -> None:
        if self.stuck:
            await asyncio.Event().wait()
        self.sent.append(text)


def _conn(peer: _Peer, user: str, **kwargs: float) -> Connection:
    options = {"queue_size": 2, "send_timeout_s": 5.0, **kwargs}
    return Connection(cast(WebSocket, peer), user, **options)  # type: ignore[arg-type]


async def test_full_queue_shuts_only_the_slow_socket(redis: aioredis.Redis) -> None:
    hub = Hub(redis, "inst", 60)
    slow, fast = _conn(_Peer(stuck=True), "u"), _conn(_Peer(stuck=False), "u")
    for conn in (slow, fast):
        await hub.add(conn)
        conn.start_sender()
    await asyncio.sleep(0)
    for i in range(4):
        hub.deliver("u", f"m{i}")
        await asyncio.sleep(0)
    assert slow.is_shut and slow.close_code == 1013
    assert not fast.is_shut
    assert cast(_Peer, fast.websocket).sent == ["m0", "m1", "m2", "m3"]
    for conn in (slow, fast):
        conn.shut(1000, "")
        await hub.remove(conn)


async def test_send_timeout_shuts_the_socket() -> None:
    conn = _conn(_Peer(stuck=True), "u", send_timeout_s=0.05)
    sender = conn.start_sender()
    conn.push("hello")
    await asyncio.wait_for(sender, 2)
    assert conn.is_shut and conn.close_code == 1013
