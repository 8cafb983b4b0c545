"""What ratelimit_service's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends, Request

from shared.service import runtime_of

from .buckets import TokenBuckets
from .config import RateLimitSettings


@dataclass(frozen=True, slots=True)
class State:
    settings: RateLimitSettings
    redis: aioredis.Redis
    buckets: TokenBuckets


def get_state(request: Request) -> State:
    return runtime_of(request, State)


StateDep = Annotated[State, Depends(get_state)]
