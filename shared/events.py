"""A task's final event, and the outbox rows that carry it (and the cache entry) to Redis.

A task ends with one final event for its user: ``result`` or ``failed``. Whoever finishes
a task row (result_receiver's store and followers, the backend's sweeper) writes the
event as an ``outbox`` row in the same transaction as the row's UPDATE, so both happen
or neither does; result_receiver's relay (``result_receiver/outbox.py``) pushes it with
``UserNotifier``, whose event log keeps only the first final event of a task. The
same transaction queues the event for the user's webhooks (``shared.webhooks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import asyncpg
import orjson
from pydantic import BaseModel

from . import tracing, webhooks
from .claims import claims_value
from .schemas import CallbackFailure, CallbackResult, Mark, TextVerdict

CACHE = "cache"
NOTIFY = "notify"

# (task_id, kind, payload)
Entry = tuple[str, str, dict[str, Any]]


class ResultEvent(BaseModel):
    """A task's verdict, pushed to its user."""

    type: Literal["result"] = "result"
    taskId: str
    mark: Mark
    reason: str
    confidence: int
    # JSON values as stored (``shared.claims``): pushed as they are, not re-validated.
    claims: list[dict[str, Any]]
    # How the verdict was reached (``TextVerdict.method``); None when not given.
    method: str | None = None
    cached: bool = False


class FailedEvent(BaseModel):
    """Why a task got no verdict, pushed to its user."""

    type: Literal["failed"] = "failed"
    taskId: str
    errorCode: str
    message: str


TaskEvent = ResultEvent | FailedEvent


class ProgressEvent(BaseModel):
    """A step on the way (a worker started the job, or will retry it): not final, so
    a task may have several; replayed like every event."""

    type: Literal["progress"] = "progress"
    taskId: str
    stage: Literal["started", "retried"]
    attempt: int


class WebhookDisabledEvent(BaseModel):
    """One of the user's webhooks failed for too long and was disabled."""

    type: Literal["webhook.disabled"] = "webhook.disabled"
    webhookId: str
    url: str
    reason: str


def outcome_event(task_id: str, outcome: CallbackResult | CallbackFailure) -> TaskEvent:
    """The event ``task_id``'s user gets for a worker's ``outcome``."""
    if isinstance(outcome, CallbackFailure):
        return FailedEvent(taskId=task_id, errorCode=outcome.errorCode, message=outcome.message)
    return result_event(task_id, outcome)


def result_event(task_id: str, verdict: TextVerdict, *, cached: bool = False) -> ResultEvent:
    """The event ``task_id``'s user gets for ``verdict`` (a worker's, or a cached one)."""
    return ResultEvent(
        taskId=task_id,
        mark=verdict.mark,
        reason=verdict.reason,
        confidence=verdict.confidence,
        claims=claims_value(verdict),
        method=verdict.method,
        cached=cached,
    )


def cache_entry(task_id: str, text_hash: str, summary_hash: str, result: CallbackResult) -> Entry:
    verdict = TextVerdict(
        mark=result.mark,
        reason=result.reason,
        confidence=result.confidence,
        claims=result.claims,
        method=result.method,
    )
    payload = {
        "text_hash": text_hash,
        "summary_hash": summary_hash,
        "verdict": verdict.model_dump(mode="json"),
    }
    return task_id, CACHE, payload


def notify_entry(
    task_id: str, user_id: str, event: TaskEvent | ProgressEvent | WebhookDisabledEvent
) -> Entry:
    payload: dict[str, Any] = {"user_id": user_id, "event": event.model_dump(mode="json")}
    if traceparent := tracing.current_traceparent():
        payload[tracing.TRACEPARENT] = traceparent  # the relay and the push continue it
    return task_id, NOTIFY, payload


class Written(NamedTuple):
    """An outbox row as written: what the writer's request relays at once, without
    reading it back."""

    id: int
    task_id: str
    kind: str
    payload: dict[str, Any]


# The outbox rows and the users' webhook deliveries of the same events, one statement.
_INSERT = f"""
WITH deliveries AS ({webhooks.enqueue_sql(4)})
INSERT INTO outbox (task_id, kind, payload)
SELECT t.task_id, t.kind, t.payload::jsonb
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(task_id, kind, payload, n)
ORDER BY t.n
RETURNING id
"""


async def write(conn: asyncpg.Connection, entries: Sequence[Entry]) -> list[Written]:
    """Insert ``entries`` (inside the caller's transaction), and queue the final events
    among them for the users' webhooks; return the rows in order."""
    if not entries:
        return []
    rows = await conn.fetch(
        _INSERT,
        [task_id for task_id, _, _ in entries],
        [kind for _, kind, _ in entries],
        [orjson.dumps(payload).decode() for _, _, payload in entries],
        *webhooks.delivery_columns(
            [(p["user_id"], task_id, p["event"]) for task_id, kind, p in entries if kind == NOTIFY]
        ),
    )
    return [
        Written(int(row["id"]), task_id, kind, payload)
        for row, (task_id, kind, payload) in zip(rows, entries, strict=True)
    ]
