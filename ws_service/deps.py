"""What the lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from shared.clients.auth import AuthClient
from shared.notify import EventLog
from shared.runtime import RedisState, state_getter

from .config import WsSettings
from .epoch import RedisEpoch
from .hub import Hub


@dataclass(frozen=True, slots=True)
class Runtime(RedisState):
    settings: WsSettings
    hub: Hub
    auth: AuthClient
    events: EventLog
    epoch: RedisEpoch


RuntimeDep = Annotated[Runtime, Depends(state_getter(Runtime))]
