"""What ratelimit_service's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.runtime import RedisState, state_getter

from .buckets import TokenBuckets
from .config import RateLimitSettings


@dataclass(frozen=True, slots=True)
class State(RedisState):
    settings: RateLimitSettings
    buckets: TokenBuckets


StateDep = Annotated[State, Depends(state_getter(State))]
