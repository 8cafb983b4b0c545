"""A new socket's first frames: ``ready``, then whatever the client missed.

Resuming: a client names the last ``eventId`` it saw, in the auth message
(``{"type": "auth", "token", "lastEventId"}``, the browser way) or, when it
authenticates with the ``Authorization`` header, in a ``Last-Event-ID`` header on the
upgrade (tokens and event ids never go in the URL). The server then sends, in order:

1. ``{"type": "ready", socketId, userId, lastEventId}``: ``lastEventId`` is the user's
   newest logged event at set-up (null: none). Events up to it are history, every
   later one is pushed live; a fresh client can start from it.
2. ``{"type": "truncated", "oldestEventId"}`` when events after the client's id may be
   gone from the log (trimmed by length or age, more than ``replay_max_events``, or
   lost with Redis's data: ``since_ms``): the client should reload its tasks with
   ``GET /v1/tasks/{taskId}``.
3. The missed ``result``/``failed`` events, oldest first, each with its ``eventId``.
4. Live events, each exactly once: the socket is registered before the log is read, and
   live events the replay already covered are dropped from its queue.
5. Later, should Redis lose its data or the instance its pub/sub connection, what the
   socket missed is delivered from the log, after ``{"type": "resync"}`` when events
   may be gone for good (``ws_service.recovery``).

A malformed ``lastEventId`` gets a ``WS-MSG-400`` error frame right after ``ready``;
the socket stays open, without a replay.
"""

from __future__ import annotations

from shared.metrics import WS_REPLAYS
from shared.notify import BadEventId, EventLog, parse_event_id

from . import messages
from .connection import Connection


async def greet(
    conn: Connection,
    events: EventLog,
    last_event_id: object,
    limit: int,
    since_ms: int | None = None,
) -> bool:
    """Send the first frames; False if the socket went away meanwhile.

    Call after the socket is registered and before its sender starts. Raises RedisError.
    """
    problem = None
    after: str | None = None
    if last_event_id is not None:
        try:
            parse_event_id(last_event_id)
            after = str(last_event_id)
        except BadEventId as exc:
            problem = str(exc)
    history = await events.read(conn.user_id, after, limit, since_ms=since_ms)
    conn.skip_through(history.newest)
    frames = [messages.ready(conn.socket_id, conn.user_id, history.newest)]
    if problem is not None:
        frames.append(messages.error("WS-MSG-400", problem))
    if history.truncated:
        oldest = history.events[0]["eventId"] if history.events else None
        frames.append(messages.truncated(oldest))
    frames.extend(messages.dumps(event) for event in history.events)
    if history.events:
        WS_REPLAYS.inc()
    for frame in frames:
        if not await conn.send_now(frame):
            return False
    return True
