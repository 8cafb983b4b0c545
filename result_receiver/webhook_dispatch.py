"""Sends the webhook deliveries that task outcomes queued (``shared/webhooks.py``).

It runs inside result_receiver, beside the outbox relay it resembles: both drain rows
that the result's own transaction wrote, and every instance shares the work through
``FOR UPDATE SKIP LOCKED``. Sending is I/O only and bounded (a timeout per request, a cap
on requests in flight, fewer still per endpoint), so it cannot hold up callbacks; and a
claimed delivery is leased, so one whose sender died is retried after the lease.

Fairness: an endpoint has at most ``per_endpoint`` requests in flight here, and one at
its cap is not claimed from, so a slow or dead endpoint never delays anyone else's.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx

from shared import events, webhooks
from shared.metrics import WEBHOOK_DELIVERIES
from shared.periodic import Periodic

log = logging.getLogger(__name__)

_CLAIM = """
WITH due AS (
  SELECT d.seq FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
  WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND w.disabled_at IS NULL
    AND NOT (d.webhook_id = ANY($2::text[]))
  ORDER BY d.next_attempt_at LIMIT $1
  FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
  next_attempt_at = now() + make_interval(secs => $3)
FROM due, webhooks w
WHERE d.seq = due.seq AND w.id = d.webhook_id
RETURNING d.seq, d.id, d.webhook_id, d.task_id, d.payload, w.url, w.secret
"""

_SUCCEEDED = """
WITH d AS (
  UPDATE webhook_deliveries SET status = 'succeeded', delivered_at = now(), last_status = $2,
    last_error = NULL
  WHERE seq = $1 RETURNING webhook_id
)
UPDATE webhooks SET failing_since = NULL FROM d WHERE webhooks.id = d.webhook_id
  AND failing_since IS NOT NULL
"""

# Past the give-up age a delivery fails for good; otherwise it is tried again later.
_FAILED = """
WITH d AS (
  UPDATE webhook_deliveries SET last_status = $2, last_error = $3,
    status = CASE WHEN created_at < now() - make_interval(secs => $5) THEN 'failed'
                  ELSE 'pending' END,
    next_attempt_at = now() + make_interval(secs => $4)
  WHERE seq = $1 RETURNING webhook_id, status
)
UPDATE webhooks w SET failing_since = coalesce(w.failing_since, now()) FROM d
WHERE w.id = d.webhook_id
RETURNING w.id, w.user_id, w.url, d.status = 'failed' AS gave_up,
  w.disabled_at IS NULL AND w.failing_since < now() - make_interval(secs => $6) AS disable
"""

_DISABLE = """
UPDATE webhooks SET disabled_at = now(), disabled_reason = $2
WHERE id = $1 AND disabled_at IS NULL RETURNING id
"""

# Finished deliveries (a user's delivery log) are kept ``keep_s``, then forgotten.
_PRUNE = """
DELETE FROM webhook_deliveries WHERE seq IN (
  SELECT seq FROM webhook_deliveries
  WHERE status <> 'pending' AND created_at < now() - make_interval(secs => $1) LIMIT $2)
"""
PRUNE_EVERY_S = 60.0

_DROP_PENDING = """
UPDATE webhook_deliveries SET status = 'failed', last_error = $2
WHERE webhook_id = $1 AND status = 'pending'
"""


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    poll_s: float = 0.5
    max_in_flight: int = 64
    per_endpoint: int = 4
    timeout_s: float = 10.0
    # Retry n waits about retry_base_s * 2**(n-1), at most retry_max_s.
    retry_base_s: float = 5.0
    retry_max_s: float = 3600.0
    give_up_after_s: float = 24 * 3600.0
    disable_after_s: float = 24 * 3600.0
    keep_s: float = 30 * 24 * 3600.0
    # Development: http and loopback receivers are allowed (a local test server).
    development: bool = False

    @property
    def lease_s(self) -> float:
        return self.timeout_s * 3 + 5


@dataclass(frozen=True, slots=True)
class Claimed:
    seq: int
    message_id: str
    webhook_id: str
    task_id: str
    body: bytes
    url: str
    secret: str


class WebhookDispatcher:
    def __init__(self, pool: asyncpg.Pool, settings: DispatchSettings) -> None:
        self._pool = pool
        self._settings = settings
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_s, connect=min(5.0, settings.timeout_s)),
            follow_redirects=False,  # a redirect could lead anywhere (SSRF)
            trust_env=False,
            headers={"user-agent": "SatyaMark-Webhooks/1", "content-type": "application/json"},
        )
        self._in_flight: dict[str, int] = {}  # webhook id -> requests in flight
        self._sends: set[asyncio.Task[None]] = set()
        self._rounds = Periodic("webhook-dispatch", self._round)
        self._pruned_at = float("-inf")

    def start(self) -> None:
        self._rounds.start(self._settings.poll_s)

    async def stop(self) -> None:
        await self._rounds.stop()
        for task in list(self._sends):
            task.cancel()  # leased: another instance (or our restart) sends them
        await asyncio.gather(*self._sends, return_exceptions=True)
        await self._http.aclose()

    async def _round(self) -> None:
        await self.dispatch_once()
        now = time.monotonic()
        if now - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = now
            await self.prune()

    async def prune(self, limit: int = 1000) -> int:
        """Forget finished deliveries older than ``keep_s``; return how many."""
        status = await self._pool.execute(_PRUNE, self._settings.keep_s, limit)
        return int(status.split()[-1])

    async def dispatch_once(self) -> int:
        """Claim what is due (as much as there is room for) and start sending it."""
        s = self._settings
        room = s.max_in_flight - len(self._sends)
        if room <= 0:
            return 0
        full = [hook for hook, n in self._in_flight.items() if n >= s.per_endpoint]
        rows = await self._pool.fetch(_CLAIM, room, full, s.lease_s)
        started = 0
        for row in rows:
            hook = row["webhook_id"]
            if self._in_flight.get(hook, 0) >= s.per_endpoint:
                # Claimed over the endpoint's cap in this round: hand it back at once.
                await self._pool.execute(
                    "UPDATE webhook_deliveries SET attempts = attempts - 1,"
                    " next_attempt_at = now() WHERE seq = $1",
                    row["seq"],
                )
                continue
            claimed = Claimed(
                row["seq"],
                row["id"],
                hook,
                row["task_id"],
                str(row["payload"]).encode(),  # jsonb comes as its JSON text
                row["url"],
                row["secret"],
            )
            self._in_flight[hook] = self._in_flight.get(hook, 0) + 1
            task = asyncio.create_task(self._send(claimed))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)
            started += 1
        return started

    async def _send(self, claimed: Claimed) -> None:
        try:
            status, error = await self._post(claimed)
            if error is None:
                await self._pool.execute(_SUCCEEDED, claimed.seq, status)
                WEBHOOK_DELIVERIES.labels("succeeded").inc()
            else:
                await self._failed(claimed, status, error)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The outcome could not be recorded: the lease runs out and it is sent again.
            log.warning("webhook delivery %s: recording failed (%s)", claimed.message_id, exc)
        finally:
            left = self._in_flight.get(claimed.webhook_id, 1) - 1
            if left > 0:
                self._in_flight[claimed.webhook_id] = left
            else:
                self._in_flight.pop(claimed.webhook_id, None)

    async def _post(self, claimed: Claimed) -> tuple[int | None, str | None]:
        """(the HTTP status, None) on a 2xx, else (status or None, why)."""
        why = await webhooks.url_problem(claimed.url, development=self._settings.development)
        if why is not None:
            return None, f"url {why}"
        headers = webhooks.signed_headers(
            claimed.secret, claimed.message_id, claimed.body, datetime.now(UTC)
        )
        try:
            response = await self._http.post(claimed.url, content=claimed.body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"endpoint answered {response.status_code}"

    async def _failed(self, claimed: Claimed, status: int | None, error: str) -> None:
        s = self._settings
        attempts = await self._pool.fetchval(
            "SELECT attempts FROM webhook_deliveries WHERE seq = $1", claimed.seq
        )
        delay = min(s.retry_max_s, s.retry_base_s * 2 ** max(0, (attempts or 1) - 1))
        delay *= random.uniform(0.8, 1.2)
        row = await self._pool.fetchrow(
            _FAILED, claimed.seq, status, error, delay, s.give_up_after_s, s.disable_after_s
        )
        WEBHOOK_DELIVERIES.labels("failed" if row and row["gave_up"] else "retry").inc()
        if row is not None and row["disable"]:
            await self._disable(claimed, row["user_id"], row["url"])

    async def _disable(self, claimed: Claimed, user_id: str, url: str) -> None:
        """Stop sending to an endpoint that failed for too long, and tell its owner
        (the event's outbox row names the task whose delivery gave up)."""
        webhook_id = claimed.webhook_id
        reason = f"every delivery failed for {self._settings.disable_after_s:.0f} s"
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchval(_DISABLE, webhook_id, reason) is None:
                return  # another instance did
            await conn.execute(_DROP_PENDING, webhook_id, "webhook disabled")
            event = events.WebhookDisabledEvent(webhookId=webhook_id, url=url, reason=reason)
            await events.write(conn, [events.notify_entry(claimed.task_id, user_id, event)])
        log.warning("webhook %s of user %s disabled: %s", webhook_id, user_id, reason)
