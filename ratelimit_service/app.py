"""Builds ratelimit_service: token buckets in Redis behind one internal route."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI

from shared.redis_client import create_redis
from shared.runtime import closing
from shared.service import service_app

from .buckets import TokenBuckets
from .config import RateLimitSettings
from .deps import State
from .routes import internal


def create_app(settings: RateLimitSettings) -> FastAPI:
    async def open_state(opened: AsyncExitStack) -> State:
        client = closing(opened, create_redis(settings.redis_url, "ratelimit", socket_timeout=2.0))
        return State(redis=client, settings=settings, buckets=TokenBuckets(client))

    return service_app(settings, "ratelimit_service", "RL", open_state, internal=[internal])
