"""What the lifespan opens, and how handlers reach it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.websockets import WebSocket

from shared.clients.auth import AuthClient
from shared.notify import EventLog

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
    runtime: Runtime = websocket.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
