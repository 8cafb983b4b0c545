"""What the lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import Depends

from shared.clients.auth import AuthClient
from shared.health import Probe, redis_probe
from shared.notify import EventLog
from shared.service import state_getter

from .config import WsSettings
from .epoch import RedisEpoch
from .hub import Hub


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: WsSettings
    hub: Hub
    auth: AuthClient
    events: EventLog
    epoch: RedisEpoch
    redis: aioredis.Redis

    def probes(self) -> dict[str, Probe]:
        return {"redis": redis_probe(self.redis)}


get_runtime = state_getter(Runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
