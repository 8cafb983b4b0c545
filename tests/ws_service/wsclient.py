"""Small helpers over the websockets client used by the tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


async def open_socket(
    url: str, token: str | None = None, *, headers: dict[str, str] | None = None
) -> ClientConnection:
    if token:
        headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
    return await connect(url, additional_headers=headers, proxy=None, open_timeout=5)


async def recv_json(ws: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(within):
        message = await ws.recv()
    result: dict[str, Any] = json.loads(message)
    return result


def event_body(event: dict[str, Any]) -> dict[str, Any]:
    """A pushed event without its eventId (which must be there)."""
    assert isinstance(event.get("eventId"), str), event
    return {k: v for k, v in event.items() if k != "eventId"}


async def authed(
    url: str, token: str, *, via_header: bool = True, last_event_id: str | None = None
) -> tuple[ClientConnection, str]:
    """An authenticated socket and its socketId."""
    headers = {"Last-Event-ID": last_event_id} if via_header and last_event_id else None
    ws = await open_socket(url, token if via_header else None, headers=headers)
    if not via_header:
        message: dict[str, Any] = {"type": "auth", "token": token}
        if last_event_id is not None:
            message["lastEventId"] = last_event_id
        await ws.send(json.dumps(message))
    ready = await recv_json(ws)
    assert ready["type"] == "ready", ready
    return ws, ready["socketId"]


async def closed_with(ws: ClientConnection, within: float = 5.0) -> tuple[int, str]:
    """Wait for the server to close ``ws``; return its close code and reason."""
    async with asyncio.timeout(within):
        try:
            while True:
                await ws.recv()
        except ConnectionClosed:
            pass
    rcvd = ws.protocol.close_rcvd
    assert rcvd is not None, "connection dropped without a close frame"
    return rcvd.code, rcvd.reason
