"""This instance's pub/sub channel: events for users whose sockets we hold.

Publishers (shared.notify.UserNotifier) send ``{"userId", "eventId", "event"}`` once per
instance; we fan the event, with its ``eventId``, out to the user's local sockets.
Pub/sub is fire-and-forget, so the listener reconnects on its own (within a second of
Redis answering again) and reports it: ``ws_service.recovery`` then delivers what the
gap cost from the users' event logs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared import tracing
from shared.metrics import WS_PUSHES

from .hub import Hub

log = logging.getLogger(__name__)

_MAX_BACKOFF_S = 1.0
# event types with a label of their own (anything else counts as "other")
PUSHED_TYPES = frozenset({"result", "failed", "progress"})


def dispatch(hub: Hub, data: str | bytes) -> int:
    """Deliver one published message to local sockets; return how many got it."""
    try:
        envelope: Any = orjson.loads(data)
        user_id = envelope["userId"]
        event = envelope["event"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        log.warning("dropping malformed event message: %.200r", data)
        return 0
    event_id = envelope.get("eventId")
    if (
        not isinstance(user_id, str)
        or not isinstance(event, dict)
        or not isinstance(event_id, str | None)
    ):
        log.warning("dropping event message with wrong shape: %.200r", data)
        return 0
    if event_id is not None:
        event = {**event, "eventId": event_id}
    # Serialise once, however many sockets the user has here.
    traceparent = envelope.get(tracing.TRACEPARENT)
    with tracing.span("push", parent=traceparent if isinstance(traceparent, str) else None):
        sent = hub.deliver(user_id, orjson.dumps(event).decode(), event_id)
    if sent:
        kind = event.get("type")
        WS_PUSHES.labels(kind if kind in PUSHED_TYPES else "other").inc(sent)
    return sent


async def run_listener(
    redis: aioredis.Redis,
    channel: str,
    hub: Hub,
    subscribed: asyncio.Event,
    on_resubscribed: Callable[[], None],
) -> None:
    """Listen on ``channel`` forever; ``subscribed`` is set once Redis confirmed, and
    ``on_resubscribed`` is called each later time (events published meanwhile were lost)."""
    backoff = 0.1
    while True:
        pubsub = redis.pubsub()
        try:
            await pubsub.subscribe(channel)
            # Wait for the confirmation: only then are publishes guaranteed to reach us.
            while await pubsub.get_message(timeout=5.0) is None:
                pass
            if subscribed.is_set():
                log.warning(
                    "re-subscribed to %s; catching up what was published meanwhile", channel
                )
                on_resubscribed()
            subscribed.set()
            backoff = 0.1
            async for message in pubsub.listen():
                if message["type"] == "message":
                    dispatch(hub, message["data"])
                elif message["type"] == "subscribe":
                    # redis-py reconnected on its own and subscribed again: the
                    # confirmation is our only sign that the connection was lost.
                    log.warning("pub/sub reconnected to %s; catching up on what it missed", channel)
                    on_resubscribed()
        except (RedisError, OSError) as exc:
            log.warning("pub/sub listener lost Redis (%s), retrying in %.1fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)
        finally:
            await pubsub.aclose()
