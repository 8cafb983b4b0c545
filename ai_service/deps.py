"""What ai_service's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends

from shared.health import Probe, redis_probe
from shared.service import state_getter

from .config import AiSettings
from .queue import JobQueue


@dataclass(frozen=True, slots=True)
class State:
    settings: AiSettings
    redis: aioredis.Redis
    queue: JobQueue

    def probes(self) -> dict[str, Probe]:
        return {"redis": redis_probe(self.redis)}


get_state = state_getter(State)


StateDep = Annotated[State, Depends(get_state)]
