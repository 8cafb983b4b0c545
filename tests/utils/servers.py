"""Run an ASGI app under a real uvicorn server on a free port, inside the test's loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from satyamark.infra import free_port


@asynccontextmanager
async def running(app: FastAPI, port: int | None = None, **options: Any) -> AsyncIterator[str]:
    """Yield the base URL (``http://127.0.0.1:PORT``) while the server runs.

    ``options`` go to ``uvicorn.Config`` (``ssl_certfile``/``ssl_keyfile`` make it https).
    """
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port or free_port(),
        log_level="warning",
        lifespan="on",
        access_log=False,
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises the startup error
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.01)
    try:
        scheme = "https" if options.get("ssl_certfile") else "http"
        yield f"{scheme}://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task
