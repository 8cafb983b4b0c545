"""uvicorn server that says goodbye properly.

uvicorn's own shutdown closes open WebSockets with 1012 before the app's lifespan ends;
we close ours first with 1001 (going away) and remove their ws:user entries.
"""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI

from .app import close_sockets


class WsServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        if isinstance(app, FastAPI):
            await close_sockets(app)
        await super().shutdown(sockets)
