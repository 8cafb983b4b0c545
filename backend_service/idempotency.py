"""``Idempotency-Key`` on ``POST /v1/verify``: a retried submission gets the first
answer (the same taskId, no new job) for 24 hours, even when the two race.

The records live in PostgreSQL beside the tasks, not in Redis: a Redis wipe must not
turn a platform's retry into a second task.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from shared.errors import Conflict, ValidationFailed

TTL_S = 24 * 3600
# How long a retry waits for the first request with its key to finish.
WAIT_S = 10.0
# A request still unanswered after this long died with its process: its key is free.
ABANDONED_S = 60


# The public contract names the gateway's prefix: clients see it as the gateway's.
class KeyReused(
    ValidationFailed, code="GW-IDEM-422", message="this Idempotency-Key was used with another body"
): ...


class KeyInFlight(
    Conflict,
    code="BE-IDEM-409",
    message="a request with this Idempotency-Key is still being answered; retry",
): ...


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


_CLAIM = f"""
INSERT INTO idempotency_keys (user_id, key, body_hash) VALUES ($1, $2, $3)
ON CONFLICT (user_id, key) DO UPDATE
    SET body_hash = excluded.body_hash, status_code = NULL, response = NULL, created_at = now()
    WHERE idempotency_keys.created_at < now() - interval '{TTL_S} seconds'
       OR (idempotency_keys.status_code IS NULL
           AND idempotency_keys.created_at < now() - interval '{ABANDONED_S} seconds')
RETURNING 1
"""


class IdempotencyKeys:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def answer_once(
        self, user_id: str, key: str, text: str, answer: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        """``answer()`` the first time ``key`` is seen for ``user_id``, the stored first
        answer afterwards (for the same text; another text is ``KeyReused``)."""
        body_hash = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        deadline = time.monotonic() + WAIT_S
        while True:
            if await self._pool.fetchval(_CLAIM, user_id, key, body_hash):
                return await self._answer_first(user_id, key, answer)
            row = await self._pool.fetchrow(
                "SELECT body_hash, status_code, response FROM idempotency_keys"
                " WHERE user_id = $1 AND key = $2",
                user_id,
                key,
            )
            if row is not None:
                if row["body_hash"] != body_hash:
                    raise KeyReused()
                if row["status_code"] is not None:
                    return Answer(row["status_code"], orjson.loads(row["response"]), True)
            # In flight elsewhere (or just given up: then the claim above succeeds).
            if time.monotonic() > deadline:
                raise KeyInFlight()
            await asyncio.sleep(0.05)

    async def _answer_first(
        self, user_id: str, key: str, answer: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        try:
            first = await answer()
        except BaseException:
            # No answer to keep: let the client's retry try again.
            await self._release(user_id, key)
            raise
        await self._pool.execute(
            "UPDATE idempotency_keys SET status_code = $3, response = $4"
            " WHERE user_id = $1 AND key = $2",
            user_id,
            key,
            first.status_code,
            orjson.dumps(first.body).decode(),
        )
        return first

    async def _release(self, user_id: str, key: str) -> None:
        try:
            await asyncio.shield(
                self._pool.execute(
                    "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2"
                    " AND status_code IS NULL",
                    user_id,
                    key,
                )
            )
        except (asyncpg.PostgresError, OSError):
            pass  # abandoned: free again after ABANDONED_S (retries meanwhile get 409)

    async def purge_expired(self) -> None:
        await self._pool.execute(
            f"DELETE FROM idempotency_keys WHERE created_at < now() - interval '{TTL_S} seconds'"
        )
