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


async def test_a_write_stuck_past_the_send_timeout_shuts_only_that_socket(
    redis: aioredis.Redis,
) -> None:
    hub = Hub(redis, "inst", 60)
    stuck, fine = _conn(_Peer(stuck=True), "u", send_timeout_s=0.2), _conn(_Peer(stuck=False), "u")
    for conn in (stuck, fine):
        await hub.add(conn)
        conn.start_sender()
    watch = asyncio.create_task(hub.watch_stuck_writes(0.05))
    try:
        hub.deliver("u", "hello")
        await asyncio.sleep(0.1)
        assert not stuck.is_shut  # waiting, but not yet for longer than the timeout
        await asyncio.sleep(0.3)
        assert stuck.is_shut and stuck.close_code == 1013
        assert stuck.close_reason == "too slow: send timed out"
        assert not fine.is_shut and cast(_Peer, fine.websocket).sent == ["hello"]
    finally:
        watch.cancel()
        for conn in (stuck, fine):
            conn.shut(1000, "")
            await hub.remove(conn)


async def test_catch_up_merges_the_gap_in_order_and_once() -> None:
    peer = _Peer(stuck=False)
    conn = _conn(peer, "u", queue_size=16)
    sender = conn.start_sender()
    conn.push("e1", "1-0")
    await asyncio.sleep(0)
    # A gap: 2-0 and 3-0 never arrive live; 4-0 arrives live before the log is read.
    conn.begin_catch_up()
    assert conn.gap_from == "1-0"
    conn.push("e4", "4-0")
    conn.push("pong")  # frames without an eventId are never held
    await asyncio.sleep(0)
    assert peer.sent == ["e1", "pong"]
    logged = [("1-0", "e1"), ("2-0", "e2"), ("3-0", "e3"), ("4-0", "e4")]
    assert conn.end_catch_up(logged) == 2
    conn.push("e4", "4-0")  # a late live copy of what the log already gave
    conn.push("e5", "5-0")
    await asyncio.sleep(0.01)
    assert peer.sent == ["e1", "pong", "e2", "e3", "e4", "e5"]
    conn.shut(1000, "")
    await asyncio.gather(sender, return_exceptions=True)


async def test_catch_up_that_overflows_shuts_the_socket() -> None:
    conn = _conn(_Peer(stuck=True), "u", queue_size=2)
    conn.start_sender()
    conn.begin_catch_up()
    assert conn.end_catch_up([(f"{i}-0", f"e{i}") for i in range(1, 5)]) >= 0
    assert conn.is_shut and conn.close_code == 1013
