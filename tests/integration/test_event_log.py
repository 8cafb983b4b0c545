"""The per-user event log behind WebSocket replay (shared.notify), on a real Redis."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from shared import keys
from shared.notify import BadEventId, EventLog, UserNotifier, parse_event_id


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def _event(task: str) -> dict[str, object]:
    return {"type": "failed", "taskId": task, "errorCode": "AI-JOB-500", "message": "m"}


async def test_event_ids_increase_and_the_log_is_capped(redis: aioredis.Redis) -> None:
    notifier = UserNotifier(redis, max_events=5)
    ids = [(await notifier.publish_event("u1", _event(f"t{i}"))).event_id for i in range(8)]
    keys_ = [parse_event_id(i) for i in ids]
    assert keys_ == sorted(keys_) and len(set(ids)) == 8
    assert await redis.xlen(keys.user_events("u1")) == 5
    assert 0 < await redis.ttl(keys.user_events("u1")) <= 7 * 24 * 3600

    history = await EventLog(redis).read("u1", ids[4], limit=100)
    assert history.newest == ids[-1] and not history.truncated
    assert history.events == [{**_event(f"t{i}"), "eventId": ids[i]} for i in (5, 6, 7)]
    # ids[0] was trimmed away: events after it may be missing
    trimmed = await EventLog(redis).read("u1", ids[0], limit=100)
    assert trimmed.truncated and [e["eventId"] for e in trimmed.events] == ids[3:]
    # over the limit: the newest win, and the rest is reported missing
    limited = await EventLog(redis).read("u1", ids[4], limit=2)
    assert limited.truncated and [e["eventId"] for e in limited.events] == ids[6:]


async def test_old_events_age_out(redis: aioredis.Redis) -> None:
    stream = keys.user_events("u1")
    await redis.xadd(stream, {"event": json.dumps(_event("ancient"))}, id="1000-0")
    published = await UserNotifier(redis, max_age_s=60).publish_event("u1", _event("t1"))
    entries = await redis.xrange(stream)
    assert [entry_id for entry_id, _ in entries or []] == [published.event_id]
    assert 0 < await redis.pttl(stream) <= 60_000


async def test_users_logs_are_separate_and_publish_carries_the_id(redis: aioredis.Redis) -> None:
    await redis.hset(keys.ws_user("u1"), mapping={"s1": "inst-a", "s2": "inst-a", "s3": "b"})
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.ws_instance_channel("inst-a"))
    await pubsub.get_message(timeout=1)
    notifier = UserNotifier(redis)
    published = await notifier.publish_event("u1", {**_event("t1"), "eventId": "forged-0"})
    assert published.instances == 2
    assert await notifier.publish("u2", _event("t2")) == 0  # logged, nobody online

    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    assert message is not None
    assert json.loads(message["data"]) == {
        "userId": "u1",
        "eventId": published.event_id,
        "event": _event("t1"),
    }
    await pubsub.aclose()
    log = EventLog(redis)
    # "0-0" asks for everything; nothing was ever trimmed, so nothing is missing
    everything = await log.read("u1", "0-0", 100)
    assert [e["taskId"] for e in everything.events] == ["t1"] and not everything.truncated
    assert [e["taskId"] for e in (await log.read("u2", "0-0", 100)).events] == ["t2"]
    fresh = await log.read("u3", None, 100)
    assert (fresh.newest, fresh.truncated, fresh.events) == (None, False, [])


@pytest.mark.parametrize("bad", ["", "1", "1-", "-1", "a-1", "1-2-3", " 1-2", 1, None, "9" * 21])
def test_malformed_event_ids_are_refused(bad: object) -> None:
    with pytest.raises(BadEventId):
        parse_event_id(bad)
