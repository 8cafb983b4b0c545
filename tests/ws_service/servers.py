"""Running real apps under uvicorn inside the test's event loop, on ephemeral ports."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI


@dataclass
class Running:
    server: uvicorn.Server
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"


@contextlib.asynccontextmanager
async def running(
    app: FastAPI, *, server_class: type[uvicorn.Server] = uvicorn.Server, ws_max_size: int = 4096
) -> AsyncIterator[Running]:
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        ws="websockets-sansio",
        ws_max_size=ws_max_size,
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = server_class(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:
            if task.done():
                task.result()  # startup failed: surface why
                raise RuntimeError("uvicorn exited during startup")
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Running(server, port)
    finally:
        server.should_exit = True
        await task


async def register_user(auth_url: str, email: str) -> tuple[str, str]:
    """A new user on the real auth_service: (access_token, userId)."""
    async with httpx.AsyncClient(base_url=auth_url) as http:
        resp = await http.post(
            "/v1/auth/register", json={"email": email, "password": "correct horse battery"}
        )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return body["access_token"], body["userId"]
