"""A user's events: logged for replay, and pushed to whichever instance holds the sockets.

Every result/failed event of a user is appended to the stream ``events:user:<userId>``
(capped by length and by age); the stream entry id is the event's ``eventId``, which
only ever grows for a user. In the same Lua script the event is published once to the
channel of each ws_service instance found in ``ws:user:<userId>`` (socketId ->
instanceId) as ``{"userId", "eventId", "event"}``. ws_service replays the log to a
client that reconnects with the last ``eventId`` it saw (see ``EventLog.read``).

A task has one final event: a second ``result``/``failed`` for a taskId already in the
user's log (the outbox relaying a row again after a crash, a retried call whose reply
was lost) is neither logged nor published again; the call answers the first eventId
with ``repeated`` set. The taskIds are remembered for the log's max age.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.commands.core import AsyncScript

from . import keys
from .redis_client import load_script, queue_script

_LUA = Path(__file__).with_name("lua")
_PUBLISH = _LUA / "publish_user_event.lua"
_READ = _LUA / "read_user_events.lua"

DEFAULT_MAX_EVENTS = 1000
DEFAULT_MAX_AGE_S = 7 * 24 * 3600

_EVENT_ID = re.compile(r"(\d{1,20})-(\d{1,20})")
_MAX_MS = 2**63  # far past any clock; keeps "after this id" computable
_MAX_SEQ = 2**64

FINAL_EVENT_TYPES = frozenset({"result", "failed"})


class BadEventId(ValueError):
    """A ``lastEventId`` that is not a stream id ``<milliseconds>-<sequence>``."""


def parse_event_id(value: object) -> tuple[int, int]:
    """``"1700000000000-3"`` -> ``(1700000000000, 3)``; raises BadEventId otherwise."""
    match = _EVENT_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise BadEventId("lastEventId must be an event id like '1700000000000-0'")
    ms, seq = int(match[1]), int(match[2])
    if ms >= _MAX_MS or seq >= _MAX_SEQ:
        raise BadEventId("lastEventId out of range")
    return ms, seq


@dataclass(frozen=True, slots=True)
class Published:
    """``event_id``: the event's id in the log; ``instances``: how many instances it was
    published to now; ``repeated``: the task's final event was logged before (under
    ``event_id``), so nothing was logged or published this time."""

    event_id: str
    instances: int
    repeated: bool = False


class UserNotifier:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        max_events: int = DEFAULT_MAX_EVENTS,
        max_age_s: int = DEFAULT_MAX_AGE_S,
    ) -> None:
        if max_events < 1 or max_age_s < 1:
            raise ValueError("the event log must keep at least one event for one second")
        self._script: AsyncScript = load_script(client, _PUBLISH)
        self._max_events = max_events
        self._max_age_ms = max_age_s * 1000

    async def publish(self, user_id: str, event: dict[str, object]) -> int:
        """Log and publish ``event`` for ``user_id``; return how many instances got it
        (0 for a repeat: see ``publish_event``)."""
        return (await self.publish_event(user_id, event)).instances

    async def publish_event(
        self, user_id: str, event: dict[str, object], *, traceparent: str | None = None
    ) -> Published:
        """Log and publish ``event`` for ``user_id``; return its eventId and fan-out.

        A final event of a task already logged for ``user_id`` is not logged or
        published again: the first one's eventId comes back, with ``repeated``."""
        keys_, args = self._publish_args(user_id, event, traceparent)
        return published(await self._script(keys=keys_, args=args))

    def queue_event(
        self,
        pipe: Pipeline,
        user_id: str,
        event: dict[str, object],
        *,
        traceparent: str | None = None,
    ) -> None:
        """``publish_event`` added to ``pipe`` (a caller's pipeline of many): its reply,
        read with ``published``, comes with the pipeline's; NoScriptError there means
        ``publish_event`` alone (see ``queue_script``)."""
        keys_, args = self._publish_args(user_id, event, traceparent)
        queue_script(pipe, self._script, keys_, args)

    def _publish_args(
        self, user_id: str, event: dict[str, object], traceparent: str | None
    ) -> tuple[list[str], list[str | int]]:
        body = {k: v for k, v in event.items() if k != "eventId"}
        return [
            keys.ws_user(user_id),
            keys.user_events(user_id),
            keys.user_event_tasks(user_id),
            keys.user_event_task_ages(user_id),
        ], [
            keys.ws_instance_channel(""),
            orjson.dumps(user_id).decode(),
            orjson.dumps(body).decode(),
            self._max_events,
            self._max_age_ms,
            _final_task(body),
            traceparent or "",
        ]


def published(reply: Any) -> Published:
    """The publish script's reply, read."""
    event_id, sent, repeated = reply
    return Published(str(event_id), int(sent), bool(int(repeated)))


def _final_task(event: dict[str, object]) -> str:
    """The taskId whose final event ``event`` is, or "" (then it is never deduplicated)."""
    task_id = event.get("taskId")
    if event.get("type") in FINAL_EVENT_TYPES and isinstance(task_id, str):
        return task_id
    return ""


@dataclass(frozen=True, slots=True)
class History:
    """The log as one atomic read saw it.

    ``newest``: id of the newest logged event (None: empty log). ``events``: the events
    after the requested id, oldest first, each with its ``eventId``. ``truncated``: some
    events after the requested id may be missing (trimmed, or more than the limit).
    """

    newest: str | None
    truncated: bool = False
    events: list[dict[str, Any]] = field(default_factory=list)


class EventLog:
    def __init__(self, client: aioredis.Redis) -> None:
        self._script: AsyncScript = load_script(client, _READ)

    async def read(
        self, user_id: str, after: str | None, limit: int, *, since_ms: int | None = None
    ) -> History:
        """The log's newest id and, when ``after`` is given, the (at most ``limit``
        newest) events after it. Raises BadEventId for a malformed ``after``.

        ``since_ms``: since when Redis holds its data (``keys.REDIS_EPOCH``); an ``after``
        older than that whose entry is gone is reported truncated even if the log has
        never lost an entry since, as the events of before the data loss are gone."""
        if after is not None:
            parse_event_id(after)
        since = "" if since_ms is None else str(since_ms)
        reply = await self._script(
            keys=[keys.user_events(user_id)], args=[after or "", max(1, limit), since]
        )
        newest, truncated, *flat = reply
        events: list[dict[str, Any]] = []
        for event_id, text in zip(flat[::2], flat[1::2], strict=True):
            try:
                event = orjson.loads(text)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict):
                events.append({**event, "eventId": str(event_id)})
        return History(str(newest) or None, bool(int(truncated)), events)
