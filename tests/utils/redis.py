"""A test's own Redis client, of the kind the services use under the same layout."""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from shared import keys


def redis_client(url: str, **options: Any) -> aioredis.Redis:
    """A plain client for ``url``; redis-py's cluster client when the test runs on a
    Redis Cluster (``REDIS_CLUSTER=1``, tests/fixtures/redis_cluster.py)."""
    if keys.CLUSTER:
        return cast(aioredis.Redis, RedisCluster.from_url(url, **options))
    return aioredis.Redis.from_url(url, **options)
