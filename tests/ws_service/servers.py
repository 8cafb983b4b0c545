"""Running real apps under uvicorn inside the test's event loop, on ephemeral ports."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI

from tests.utils.servers import serving


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
    async with serving(
        app,
        server_class=server_class,
        ws="websockets-sansio",
        ws_max_size=ws_max_size,
        ws_per_message_deflate=False,
    ) as (server, port):
        yield Running(server, port)


async def register_user(auth_url: str, email: str) -> tuple[str, str]:
    """A new user on the real auth_service: (access_token, userId)."""
    async with httpx.AsyncClient(base_url=auth_url) as http:
        resp = await http.post(
            "/v1/auth/register", json={"email": email, "password": "correct horse battery"}
        )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    return body["access_token"], body["userId"]
