"""The per-user event log behind WebSocket replay (shared.notify), on a real Redis."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from shared import keys
from shared.notify import BadEventId, EventLog, Published, UserNotifier, parse_event_id
from tests.utils.redis import redis_client


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = redis_client(redis_url, decode_responses=True)
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


async def _listen(redis: aioredis.Redis, user: str) -> aioredis.client.PubSub:
    await redis.hset(keys.ws_user(user), "s1", "inst-a")
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.ws_instance_channel("inst-a"))
    await pubsub.get_message(timeout=1)
    return pubsub


async def _messages(pubsub: aioredis.client.PubSub) -> list[dict[str, Any]]:
    """Every message that arrives within half a second."""
    found: list[dict[str, Any]] = []
    while message := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5):
        found.append(json.loads(message["data"]))
    return found


async def test_a_tasks_final_event_is_logged_and_published_once(redis: aioredis.Redis) -> None:
    pubsub = await _listen(redis, "u1")
    notifier = UserNotifier(redis)
    first = await notifier.publish_event("u1", _event("t1"))
    assert (first.instances, first.repeated) == (1, False)
    # Delivered again (the outbox relay after a crash), or even another final event for
    # the task: the first one stands, nothing new is logged or pushed.
    again = await notifier.publish_event("u1", _event("t1"))
    assert again == Published(first.event_id, 0, repeated=True)
    result: dict[str, object] = {"type": "result", "taskId": "t1", "mark": "Correct"}
    assert await notifier.publish("u1", result) == 0

    assert [m["eventId"] for m in await _messages(pubsub)] == [first.event_id]
    logged = await EventLog(redis).read("u1", "0-0", 100)
    assert logged.events == [{**_event("t1"), "eventId": first.event_id}]
    # per user: another user's task of the same id is its own
    assert not (await notifier.publish_event("u2", _event("t1"))).repeated
    # a later task, and an event that is no task's final one, are logged as ever
    later = await notifier.publish_event("u1", _event("t2"))
    note: dict[str, object] = {"type": "notice", "taskId": "t2"}
    notes = [await notifier.publish_event("u1", note) for _ in range(2)]
    assert not later.repeated and not any(n.repeated for n in notes)
    assert await redis.xlen(keys.user_events("u1")) == 4
    assert await redis.hgetall(keys.user_event_tasks("u1")) == {
        "t1": first.event_id,
        "t2": later.event_id,
    }
    await pubsub.aclose()


async def test_remembered_tasks_age_out_with_the_log(redis: aioredis.Redis) -> None:
    tasks, ages = keys.user_event_tasks("u1"), keys.user_event_task_ages("u1")
    # t0 was logged long ago; it is forgotten with the log's old events
    await redis.hset(tasks, "t0", "1000-0")
    await redis.zadd(ages, {"t0": 1000})
    notifier = UserNotifier(redis, max_events=1, max_age_s=60)
    first = await notifier.publish_event("u1", _event("t1"))
    assert await redis.hgetall(tasks) == {"t1": first.event_id}
    assert await redis.zrange(ages, 0, -1) == ["t1"]
    for key in (tasks, ages):
        assert 0 < await redis.pttl(key) <= 60_000
    # t1's event is trimmed by length, yet t1 is still remembered for the log's max age
    await notifier.publish_event("u1", _event("t2"))
    assert await redis.xlen(keys.user_events("u1")) == 1
    assert (await notifier.publish_event("u1", _event("t1"))).event_id == first.event_id
    assert not (await notifier.publish_event("u1", _event("t0"))).repeated


@pytest.mark.parametrize("bad", ["", "1", "1-", "-1", "a-1", "1-2-3", " 1-2", 1, None, "9" * 21])
def test_malformed_event_ids_are_refused(bad: object) -> None:
    with pytest.raises(BadEventId):
        parse_event_id(bad)


async def test_ids_older_than_the_data_redis_holds_are_truncated(redis: aioredis.Redis) -> None:
    """After Redis lost its data, a client resuming from an id of before the loss may
    have missed events that are gone: truncated, even though the new log never lost an
    entry. "0-0" still asks for whatever the log holds."""
    notifier, log = UserNotifier(redis), EventLog(redis)
    new = await notifier.publish_event("u1", _event("t1"))
    since = int(new.event_id.split("-")[0])
    old_id = f"{since - 60_000}-0"
    assert not (await log.read("u1", old_id, 100)).truncated  # no data loss known
    after_loss = await log.read("u1", old_id, 100, since_ms=since)
    assert after_loss.truncated and [e["taskId"] for e in after_loss.events] == ["t1"]
    assert not (await log.read("u1", "0-0", 100, since_ms=since)).truncated
    assert not (await log.read("u1", new.event_id, 100, since_ms=since)).truncated
