"""Run an ASGI app under a real uvicorn server on a free port, inside the test's loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI


@asynccontextmanager
async def serving(
    app: FastAPI, *, server_class: type[uvicorn.Server] = uvicorn.Server, **options: Any
) -> AsyncIterator[tuple[uvicorn.Server, int]]:
    """Yield the started server and its port; ``options`` go to ``uvicorn.Config``."""
    settings: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "log_level": "warning",
        "lifespan": "on",
        "access_log": False,
        "timeout_graceful_shutdown": 5,
        **options,
    }
    server = server_class(uvicorn.Config(app, **settings))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()  # start-up failed: surface why
                raise RuntimeError("uvicorn exited during start-up")
            await asyncio.sleep(0.01)
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield server, port
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def running(app: FastAPI, **options: Any) -> AsyncIterator[str]:
    """Yield the base URL while the server runs (https when given ``ssl_certfile``)."""
    async with serving(app, **options) as (_, port):
        scheme = "https" if options.get("ssl_certfile") else "http"
        yield f"{scheme}://127.0.0.1:{port}"
