"""What the lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.websockets import WebSocket

from shared.clients.auth import AuthClient
from shared.notify import EventLog
from shared.service import runtime_of

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


def get_runtime(websocket: WebSocket) -> Runtime:
    return runtime_of(websocket, Runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
