"""The verdict cache: ``cache:result:<textHash>`` and ``cache:result:<summaryHash>``."""

from __future__ import annotations

import orjson
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from . import keys
from .redis_client import get_many
from .schemas import Mark, TextVerdict


class ResultCache:
    """``insufficient_ttl_s`` is shorter: the knowledge base grows, and a claim it could
    not settle yesterday may be settled today (Correct/Incorrect rarely change)."""

    def __init__(self, client: aioredis.Redis, ttl_s: int, insufficient_ttl_s: int) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._insufficient_ttl_s = min(ttl_s, insufficient_ttl_s)

    async def lookup(self, text_hash: str, summary_hash: str) -> TextVerdict | None:
        """The exact text's verdict first, then that of any cosmetically equal text.

        Entries written before verdicts carried claims read as having none, and those
        written before they carried a method as having none (``method`` None)."""
        by_text, by_summary = await get_many(
            self._client, [keys.cache_result(text_hash), keys.cache_result(summary_hash)]
        )
        raw = by_text or by_summary
        if raw is None:
            return None
        try:
            return TextVerdict.model_validate(orjson.loads(raw))
        except ValueError:
            return None  # an unreadable entry is a miss, not an error

    async def store(self, text_hash: str, summary_hash: str, verdict: TextVerdict) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            self.queue_store(pipe, text_hash, summary_hash, verdict)
            await pipe.execute()

    STORE_REPLIES = 2  # what ``queue_store`` adds to a pipeline

    def queue_store(
        self, pipe: Pipeline, text_hash: str, summary_hash: str, verdict: TextVerdict
    ) -> None:
        """Add the store to ``pipe`` (a caller's pipeline of many; two replies)."""
        value = orjson.dumps(verdict.model_dump(mode="json"))
        ttl = self._insufficient_ttl_s if verdict.mark is Mark.INSUFFICIENT else self._ttl_s
        pipe.set(keys.cache_result(text_hash), value, ex=ttl)
        pipe.set(keys.cache_result(summary_hash), value, ex=ttl)
