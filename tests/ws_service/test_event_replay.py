"""Reconnecting with lastEventId: missed events replayed in order, live ones once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection

from shared.notify import UserNotifier

from .conftest import WsFactory
from .servers import register_user
from .wsclient import authed, open_socket, recv_json


def _event(task: str) -> dict[str, object]:
    return {"type": "result", "taskId": task, "mark": "Correct", "reason": "r", "confidence": 9}


async def _publish(notifier: UserNotifier, user: str, *tasks: str) -> list[str]:
    return [(await notifier.publish_event(user, _event(t))).event_id for t in tasks]


async def _resume(
    url: str, token: str, last: object, *, header: bool = False
) -> tuple[ClientConnection, dict[str, Any]]:
    """A socket that resumed from ``last``, and its ready message."""
    if header:
        ws = await open_socket(url, token, headers={"Last-Event-ID": str(last)})
    else:
        ws = await open_socket(url)
        await ws.send(json.dumps({"type": "auth", "token": token, "lastEventId": last}))
    ready = await recv_json(ws)
    assert ready["type"] == "ready", ready
    return ws, ready


async def _frames_until_pong(ws: ClientConnection) -> list[dict[str, Any]]:
    """Everything the server sends before answering a ping sent now."""
    await ws.send(json.dumps({"type": "ping"}))
    frames = []
    while (frame := await recv_json(ws)) != {"type": "pong"}:
        frames.append(frame)
    return frames


def _ids(frames: list[dict[str, Any]]) -> list[str]:
    return [f["eventId"] for f in frames]


async def test_reconnect_replays_exactly_the_missed_events(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    inst = await ws_instance()
    token, user = await register_user(auth_url, "r@example.com")
    _, other = await register_user(auth_url, "o@example.com")
    notifier = UserNotifier(redis)

    ws, ready = await _resume(inst.ws_url, token, None)
    assert ready["lastEventId"] is None
    (first,) = await _publish(notifier, user, "t1")
    live = await recv_json(ws)
    assert (live["taskId"], live["eventId"]) == ("t1", first)
    await ws.close()

    missed = await _publish(notifier, user, "t2", "t3")
    await _publish(notifier, other, "not-yours")
    for header in (False, True):
        ws, ready = await _resume(inst.ws_url, token, first, header=header)
        assert ready["lastEventId"] == missed[-1]
        frames = await _frames_until_pong(ws)
        assert [f["taskId"] for f in frames] == ["t2", "t3"]
        assert _ids(frames) == missed
        await ws.close()

    # resuming from the newest id replays nothing; later events still arrive live
    ws, _ = await _resume(inst.ws_url, token, missed[-1])
    assert await _frames_until_pong(ws) == []
    (later,) = await _publish(notifier, user, "t4")
    assert (await recv_json(ws))["eventId"] == later
    await ws.close()


async def test_each_event_once_while_a_replay_races_live_publishing(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    one, two = await ws_instance(), await ws_instance()
    token, user = await register_user(auth_url, "race@example.com")
    notifier = UserNotifier(redis)
    offline = await _publish(notifier, user, *(f"old{i}" for i in range(40)))
    online, _ = await authed(two.ws_url, token)

    async def publish_live() -> list[str]:
        ids = []
        for i in range(40):
            ids += await _publish(notifier, user, f"new{i}")
            await asyncio.sleep(0)
        return ids

    live_task = asyncio.create_task(publish_live())
    resumed, _ = await _resume(one.ws_url, token, offline[0])
    live = await live_task

    expected = offline[1:] + live
    got: list[dict[str, Any]] = []
    while len(got) < len(expected):
        got.append(await recv_json(resumed))
    assert _ids(got) == expected  # in order, no gap, no duplicate
    assert await _frames_until_pong(resumed) == []
    online_got = [await recv_json(online) for _ in live]
    assert _ids(online_got) == live
    assert await _frames_until_pong(online) == []
    await resumed.close()
    await online.close()


async def test_trimmed_history_says_truncated(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    inst = await ws_instance(replay_max_events=2)
    token, user = await register_user(auth_url, "t@example.com")
    notifier = UserNotifier(redis, max_events=3)
    ids = await _publish(notifier, user, *(f"t{i}" for i in range(6)))

    # the log keeps t3..t5; t1 and t2 were trimmed
    ws, _ = await _resume(inst.ws_url, token, ids[0])
    frames = await _frames_until_pong(ws)
    assert frames[0] == {"type": "truncated", "oldestEventId": ids[4]}
    assert _ids(frames[1:]) == ids[4:]  # at most replay_max_events, the newest
    await ws.close()

    # everything after ids[3] is still there, and fits the replay
    ws, _ = await _resume(inst.ws_url, token, ids[3])
    assert _ids(await _frames_until_pong(ws)) == ids[4:]
    await ws.close()

    # a log that is gone entirely (expired) cannot vouch for anything
    await redis.flushall()
    ws, ready = await _resume(inst.ws_url, token, ids[5])
    assert ready["lastEventId"] is None
    assert await _frames_until_pong(ws) == [{"type": "truncated", "oldestEventId": None}]
    await ws.close()


async def test_malformed_last_event_id_is_an_error_not_a_close(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    inst = await ws_instance()
    token, user = await register_user(auth_url, "m@example.com")
    notifier = UserNotifier(redis)
    (newest,) = await _publish(notifier, user, "t0")
    bad_ids = (("yesterday", False), (42, False), ("1-2-3", True), ("9" * 30, False))
    for n, (bad, header) in enumerate(bad_ids, 1):
        ws, ready = await _resume(inst.ws_url, token, bad, header=header)
        assert ready["lastEventId"] == newest
        (error,) = await _frames_until_pong(ws)
        assert error["type"] == "error" and error["errorCode"] == "WS-MSG-400"
        (live,) = await _publish(notifier, user, f"t{n}")  # a task's event is sent once
        assert (await recv_json(ws))["eventId"] == live
        newest = live
        await ws.close()
