"""The transactional outbox: what Redis must learn about an outcome, kept in PostgreSQL.

A stored result or failure writes, in the same transaction as the ``ai_results``
UPDATE, one ``outbox`` row per Redis side effect (``shared.events``): ``cache`` (the
verdict with its per-claim verdicts and method, under both hashes; results only) and
``notify`` (one per user event: the leader's and each follower's, and those of the
followers the backend's sweeper finishes). After the commit the request relays its own
rows at once (their payloads in hand, nothing read back) and marks them delivered, with
the tasks' ``notified`` stage, in one statement. Whatever is left undelivered (a crash after the
commit, Redis down, the sweeper's rows) is delivered by the background relay every
``RECEIVER_OUTBOX_INTERVAL_S`` seconds; its batches are taken ``FOR UPDATE SKIP
LOCKED``, so several receiver instances share the work and no row is relayed by two of
them at once.

Delivery is at least once: a crash after the Redis write and before ``delivered_at``
commits relays that row again. A second cache SET writes the same value; a second
notify changes nothing (``UserNotifier`` logs and publishes a task's final event once
per user) and counts as delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError, RedisError

from shared import tasks, tracing
from shared.events import CACHE, NOTIFY, Written
from shared.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING
from shared.notify import FINAL_EVENT_TYPES, Published, UserNotifier, published
from shared.periodic import Periodic
from shared.result_cache import ResultCache
from shared.schemas import TextVerdict

log = logging.getLogger(__name__)

# Oldest first, so a user's events keep their order; rows another relay holds are
# skipped (it is delivering them). ``$1``: only rows at least this old (the request that
# wrote a row relays it itself, at once).
_CLAIM = """
SELECT id, task_id, kind, payload FROM outbox
WHERE delivered_at IS NULL AND created_at <= now() - make_interval(secs => $1)
ORDER BY id LIMIT $2
FOR UPDATE SKIP LOCKED
"""

_BACKLOG = """
SELECT count(*) AS pending,
       coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_s
FROM outbox WHERE delivered_at IS NULL
"""

# Delivered rows ($1) and the tasks whose final event went out ($2, $3): one statement.
_MARK = f"""
WITH delivered AS (
  UPDATE outbox SET delivered_at = now()
  WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL
)
{tasks.notified_sql(2)}
"""

_PRUNE = """
DELETE FROM outbox WHERE id IN (
  SELECT id FROM outbox WHERE delivered_at < now() - make_interval(secs => $1) LIMIT $2)
"""


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        client: aioredis.Redis,
        cache_ttl_s: int,
        cache_insufficient_ttl_s: int,
        *,
        batch: int = 100,
        min_age_s: float = 1.0,
        keep_s: float = 7 * 24 * 3600,
    ) -> None:
        self._pool = pool
        self._client = client
        self._cache = ResultCache(client, cache_ttl_s, cache_insufficient_ttl_s)
        self._notifier = UserNotifier(client)
        self._batch = batch
        self._min_age_s = min_age_s
        self._keep_s = keep_s
        self._rounds = Periodic("outbox-relay", self._round)

    async def deliver(self, rows: Sequence[Written]) -> int:
        """Relay rows a request has just committed; raises RedisError if Redis fails.

        The rows are not claimed: the background relay leaves rows younger than
        ``min_age_s`` alone, and should it take one anyway (this request stalled), the
        row is delivered twice, which at-least-once delivery allows (see above)."""
        if not rows:
            return 0
        delivered, notified, failure = await self._send_all(rows)
        if delivered:
            await self._pool.execute(_MARK, delivered, list(notified), list(notified.values()))
        if failure is not None:
            raise failure
        return len(delivered)

    async def relay_once(self, min_age_s: float | None = None) -> int:
        """Relay undelivered rows, batch after batch; return how many were delivered.

        ``min_age_s`` (default: the relay's own) leaves younger rows to the request
        that wrote them. Raises RedisError when Redis fails (the rest stays queued).
        """
        age = self._min_age_s if min_age_s is None else min_age_s
        total = 0
        while True:
            done = await self._relay(age, self._batch)
            total += done
            if done < self._batch:
                return total

    async def _relay(self, min_age_s: float, limit: int) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetch(_CLAIM, min_age_s, limit)
            rows = [
                Written(row["id"], row["task_id"], row["kind"], _payload(row["payload"]))
                for row in claimed
            ]
            delivered, notified, failure = await self._send_all(rows)
            # Mark (and commit) what reached Redis even when a later row failed.
            if delivered:
                await conn.execute(_MARK, delivered, list(notified), list(notified.values()))
        if failure is not None:
            raise failure
        return len(rows)

    async def _send_all(
        self, rows: Sequence[Written]
    ) -> tuple[list[int], dict[str, bool], Exception | None]:
        """Send rows in one pipeline (one round trip for them all), in order until Redis
        fails: the ids delivered (or dropped as undeliverable), each task whose final
        event went out -> whether a socket got it now, and the failure that stopped the
        rest. Redis without the push script (restarted, or a cluster node that has not
        seen it) answers NOSCRIPT in a pipeline: then row by row, which loads it."""
        delivered: list[int] = []
        sent: list[tuple[Written, int]] = []  # a row and how many replies it awaits
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for row in rows:
                    try:
                        sent.append((row, self._queue(pipe, row.kind, row.payload)))
                    except (KeyError, TypeError, ValueError):
                        # Can never be delivered; keeping it would only repeat this forever.
                        log.exception("outbox row %s is malformed; dropped", row.id)
                        delivered.append(row.id)
                replies = iter(await pipe.execute(raise_on_error=False) if sent else ())
        except (RedisError, OSError) as exc:
            return delivered, {}, exc  # Redis is down: the rest waits
        notified: dict[str, bool] = {}
        unknown: list[Written] = []  # rows whose script Redis did not know
        failure: Exception | None = None
        for row, count in sent:
            answers = [next(replies) for _ in range(count)]
            if failure is not None:
                continue  # the rest waits for the relay
            if any(isinstance(a, NoScriptError) for a in answers):
                unknown.append(row)
            elif (failure := next((a for a in answers if isinstance(a, Exception)), None)) is None:
                if row.kind == NOTIFY and (live := _live(row.payload, answers[0])) is not None:
                    notified[row.task_id] = live
                delivered.append(row.id)
        if unknown and failure is None:
            # A user's rows share a Redis node, so they all went or all came back here:
            # their order holds.
            more, more_notified, failure = await self._send_one_by_one(unknown)
            delivered += more
            notified |= more_notified
        return delivered, notified, failure

    def _queue(self, pipe: Pipeline, kind: str, payload: dict[str, Any]) -> int:
        """Add one row's Redis writes to ``pipe``; return how many replies they give."""
        if kind == CACHE:
            # Rows written before verdicts carried claims (or a method) read as having
            # none: ``claims`` [] and ``method`` None.
            verdict = TextVerdict.model_validate(payload["verdict"])
            self._cache.queue_store(pipe, payload["text_hash"], payload["summary_hash"], verdict)
            return ResultCache.STORE_REPLIES
        if kind == NOTIFY:
            with tracing.span("relay event", parent=payload.get(tracing.TRACEPARENT)):
                self._notifier.queue_event(
                    pipe,
                    payload["user_id"],
                    payload["event"],
                    traceparent=tracing.current_traceparent(),
                )
            return 1
        log.error("outbox row of unknown kind %r skipped", kind)  # the table's CHECK allows none
        return 0

    async def _send_one_by_one(
        self, rows: Sequence[Written]
    ) -> tuple[list[int], dict[str, bool], Exception | None]:
        """``_send_all`` without a pipeline: each row's writes are their own round trip
        (a script Redis does not know is loaded on the way)."""
        delivered: list[int] = []
        notified: dict[str, bool] = {}
        for row in rows:
            try:
                live = await self._send(row.kind, row.payload)
                if live is not None:
                    notified[row.task_id] = live
            except (RedisError, OSError) as exc:
                return delivered, notified, exc
            delivered.append(row.id)
        return delivered, notified, None

    async def _send(self, kind: str, payload: dict[str, Any]) -> bool | None:
        """Deliver one row; for a task's final event, whether a socket got it now."""
        if kind == CACHE:
            verdict = TextVerdict.model_validate(payload["verdict"])
            await self._cache.store(payload["text_hash"], payload["summary_hash"], verdict)
            return None
        with tracing.span("relay event", parent=payload.get(tracing.TRACEPARENT)):
            reply = await self._notifier.publish_event(
                payload["user_id"], payload["event"], traceparent=tracing.current_traceparent()
            )
        return _live_published(payload, reply)

    async def prune(self, limit: int = 1000) -> int:
        """Forget delivered rows older than ``keep_s``."""
        status = await self._pool.execute(_PRUNE, self._keep_s, limit)
        return int(status.split()[-1])

    @property
    def running(self) -> bool:
        return self._rounds.running

    def start(self, interval_s: float) -> None:
        self._rounds.start(interval_s)

    async def stop(self) -> None:
        await self._rounds.stop()

    async def measure(self) -> None:
        """Set the outbox gauges (before each round, so they still move while Redis is
        down and rows pile up)."""
        row = await self._pool.fetchrow(_BACKLOG)
        assert row is not None
        OUTBOX_PENDING.set(row["pending"])
        OUTBOX_OLDEST_AGE.set(row["oldest_s"])

    async def _round(self) -> None:
        await self.measure()
        delivered = await self.relay_once()
        if delivered:
            log.info("outbox relay delivered %d row(s)", delivered)
        await self.prune()


def _payload(value: Any) -> dict[str, Any]:
    # asyncpg hands jsonb over as text unless a codec is set.
    decoded = orjson.loads(value) if isinstance(value, str | bytes) else value
    return decoded if isinstance(decoded, dict) else {}


def _live(payload: dict[str, Any], reply: Any) -> bool | None:
    """For a task's final event, whether a socket got it now (None: not a final event,
    or one published before)."""
    return _live_published(payload, published(reply))


def _live_published(payload: dict[str, Any], reply: Published) -> bool | None:
    if payload["event"].get("type") in FINAL_EVENT_TYPES and not reply.repeated:
        return reply.instances > 0
    return None
