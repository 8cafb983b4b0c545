"""Live sockets stay reachable and whole when Redis loses data or connections.

Each test keeps sockets open on two real ws_service instances (real Redis, real
auth_service) while something goes wrong underneath, with no ws_service restart:
a FLUSHALL, a vanished registration, a dropped pub/sub connection, and a kill -9 of
Redis restarted empty. Events published meanwhile must reach every socket exactly
once, or be covered by ``{"type": "resync"}`` when they are gone for good.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection

from satyamark.infra import RedisServer
from shared import keys
from shared.notify import UserNotifier
from tests.utils.redis import redis_client

from .conftest import WsFactory
from .servers import register_user
from .wsclient import authed, recv_json

FAST = {"epoch_check_interval_s": 0.2, "registration_ttl_s": 3}


def _event(task: str) -> dict[str, object]:
    return {"type": "result", "taskId": task, "mark": "Correct", "reason": "r", "confidence": 9}


async def _frames_until_pong(ws: ClientConnection, within: float = 5.0) -> list[dict[str, Any]]:
    await ws.send(json.dumps({"type": "ping"}))
    frames = []
    while (frame := await recv_json(ws, within)) != {"type": "pong"}:
        frames.append(frame)
    return frames


async def _collect(ws: ClientConnection, tasks: set[str], within: float = 5.0) -> list[Any]:
    """Frames until every task in ``tasks`` has arrived (and whatever came with them)."""
    frames: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(within):
            while not tasks <= {f.get("taskId") for f in frames}:
                frames.append(await recv_json(ws, within))
    except TimeoutError:
        missing = tasks - {f.get("taskId") for f in frames}
        raise AssertionError(f"missing {missing}: {frames}") from None
    return frames + await _frames_until_pong(ws)


def _tasks(frames: list[dict[str, Any]]) -> list[str]:
    return [f["taskId"] for f in frames if f["type"] == "result"]


async def _two_instances(ws_instance: WsFactory, redis_url: str) -> list[str]:
    return [
        (await ws_instance(redis_url=redis_url, instance_id=f"inst-{i}", **FAST)).ws_url
        for i in (1, 2)
    ]


async def _sockets(urls: list[str], token: str) -> list[ClientConnection]:
    """One socket of the user on each instance."""
    return [(await authed(url, token))[0] for url in urls]


async def _user_on_two_instances(
    ws_instance: WsFactory, auth_url: str, redis_url: str, email: str
) -> tuple[str, list[ClientConnection]]:
    urls = await _two_instances(ws_instance, redis_url)
    token, user = await register_user(auth_url, email)
    return user, await _sockets(urls, token)


async def test_flushall_restores_registrations_and_resyncs(
    ws_instance: WsFactory, auth_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    user, sockets = await _user_on_two_instances(ws_instance, auth_url, redis_url, "f@example.com")
    notifier = UserNotifier(redis)
    assert await notifier.publish(user, _event("before")) == 2
    for ws in sockets:
        assert _tasks(await _collect(ws, {"before"})) == ["before"]

    await redis.flushall()
    # Published while (usually) nobody is registered: logged in the new log, reaching no
    # instance. An instance whose epoch check (every 0.2 s) falls between the FLUSHALL
    # and this publish has already re-registered and told its sockets to resync: it gets
    # the event live. Either way each socket must see resync, then gap, once.
    assert await notifier.publish(user, _event("gap")) in (0, 1, 2)
    async with asyncio.timeout(3):
        while len(await redis.hgetall(keys.ws_user(user))) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert await notifier.publish(user, _event("after")) == 2
    for ws in sockets:
        frames = await _collect(ws, {"gap", "after"})
        assert frames[0]["type"] == "resync", frames
        assert _tasks(frames) == ["gap", "after"]
        assert [f["type"] for f in frames].count("resync") == 1


async def test_vanished_registration_is_restored_and_caught_up(
    ws_instance: WsFactory, auth_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    user, sockets = await _user_on_two_instances(ws_instance, auth_url, redis_url, "v@example.com")
    notifier = UserNotifier(redis)
    await redis.delete(keys.ws_user(user))
    assert await notifier.publish(user, _event("unseen")) == 0
    # The refresh (every third of the 3 s TTL) finds the entries gone and catches up,
    # without a resync: the log still holds everything.
    for ws in sockets:
        frames = await _collect(ws, {"unseen"}, within=4)
        assert [f["type"] for f in frames] == ["result"], frames
    assert await notifier.publish(user, _event("live")) == 2
    for ws in sockets:
        assert _tasks(await _collect(ws, {"live"})) == ["live"]


async def test_dropped_pubsub_connection_loses_nothing(
    ws_instance: WsFactory, auth_url: str, redis_url: str, redis: aioredis.Redis
) -> None:
    user, sockets = await _user_on_two_instances(ws_instance, auth_url, redis_url, "p@example.com")
    notifier = UserNotifier(redis)
    sent = []
    for round_ in range(3):
        await redis.client_kill_filter(_type="pubsub")
        for i in range(5):  # some before the listeners re-subscribe, some after
            sent.append(f"r{round_}-{i}")
            await notifier.publish(user, _event(sent[-1]))
            await asyncio.sleep(0.03)
    for ws in sockets:
        frames = await _collect(ws, set(sent))
        assert _tasks(frames) == sent, frames
        assert {f["type"] for f in frames} == {"result"}


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    """A Redis of this test's own (no persistence), so the test may kill it."""
    server = RedisServer(tmp_path / "redis", appendonly=False).start()
    yield server
    server.stop()


async def test_redis_killed_and_restarted_empty(
    ws_instance: WsFactory, auth_url: str, own_redis: RedisServer
) -> None:
    urls = await _two_instances(ws_instance, own_redis.url)
    users = [await register_user(auth_url, f"k{i}@example.com") for i in range(3)]
    sockets = {user: await _sockets(urls, token) for token, user in users}
    redis = redis_client(own_redis.url, decode_responses=True)
    try:
        notifier = UserNotifier(redis)
        for user in sockets:
            await notifier.publish(user, _event(f"{user}-before"))
        for user, pair in sockets.items():
            for ws in pair:
                assert _tasks(await _collect(ws, {f"{user}-before"})) == [f"{user}-before"]

        assert own_redis.proc is not None
        own_redis.proc.kill()
        own_redis.proc.wait(10)
        own_redis.start()
        await redis.aclose()  # its connections died with the server
        redis = redis_client(own_redis.url, decode_responses=True)
        notifier = UserNotifier(redis)
        # At once, before the instances notice: these reach nobody live.
        for user in sockets:
            await notifier.publish(user, _event(f"{user}-gap"))
        await asyncio.sleep(1.5)
        for user in sockets:
            assert await notifier.publish(user, _event(f"{user}-after")) == 2
        for user, pair in sockets.items():
            for ws in pair:
                frames = await _collect(ws, {f"{user}-gap", f"{user}-after"})
                assert frames[0]["type"] == "resync", frames
                assert _tasks(frames) == [f"{user}-gap", f"{user}-after"]
    finally:
        await redis.aclose()
