"""What result_receiver's lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
import redis.asyncio as aioredis
from fastapi import Depends

from shared.health import Probe, postgres_probe, redis_probe
from shared.service import state_getter

from .config import ReceiverSettings
from .followers import InflightLead
from .outbox import OutboxRelay
from .store import ResultStore


@dataclass(frozen=True, slots=True)
class State:
    settings: ReceiverSettings
    redis: aioredis.Redis
    pool: asyncpg.Pool
    store: ResultStore
    inflight: InflightLead
    relay: OutboxRelay

    def probes(self) -> dict[str, Probe]:
        return {"redis": redis_probe(self.redis), "postgres": postgres_probe(self.pool)}


get_state = state_getter(State)


StateDep = Annotated[State, Depends(get_state)]
