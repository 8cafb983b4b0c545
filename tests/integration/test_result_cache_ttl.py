"""Insufficient verdicts leave the cache sooner than the others (real Redis)."""

from __future__ import annotations

from shared import keys
from shared.result_cache import ResultCache
from shared.schemas import Mark, TextVerdict
from tests.utils.redis import redis_client

DAY, HOUR = 24 * 3600, 3600


async def test_insufficient_verdicts_expire_sooner(redis_url: str) -> None:
    client = redis_client(redis_url)
    try:
        cache = ResultCache(client, 7 * DAY, HOUR)
        for n, mark in enumerate(Mark):
            verdict = TextVerdict(mark=mark, reason="because", confidence=50)
            text_hash, summary_hash = f"{n:064x}", f"{n + 100:064x}"
            await cache.store(text_hash, summary_hash, verdict)
            assert await cache.lookup(text_hash, summary_hash) == verdict
            for key in (keys.cache_result(text_hash), keys.cache_result(summary_hash)):
                ttl = await client.ttl(key)
                if mark is Mark.INSUFFICIENT:
                    assert HOUR - 5 <= ttl <= HOUR
                else:
                    assert 7 * DAY - 5 <= ttl <= 7 * DAY
    finally:
        await client.aclose()
