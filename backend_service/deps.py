"""What backend_service's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
import httpx
import redis.asyncio as aioredis
from fastapi import Depends

from shared.health import Probe, postgres_probe, redis_probe
from shared.service import state_getter

from .config import BackendSettings
from .idempotency import IdempotencyKeys
from .intake import Intake
from .sweeper import Sweeper
from .tasks import TaskRepository
from .verify import Verifier


@dataclass(frozen=True, slots=True)
class State:
    settings: BackendSettings
    redis: aioredis.Redis
    pool: asyncpg.Pool
    tasks: TaskRepository
    verifier: Verifier
    sweeper: Sweeper
    intake: Intake
    ai_http: httpx.AsyncClient  # ai_service: jobs an operator replays
    idempotency: IdempotencyKeys

    def probes(self) -> dict[str, Probe]:
        return {"redis": redis_probe(self.redis), "postgres": postgres_probe(self.pool)}


get_state = state_getter(State)


StateDep = Annotated[State, Depends(get_state)]
