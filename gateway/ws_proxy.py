"""Relays a client WebSocket to a ws_service instance.

The gateway adds nothing to the conversation: frames are copied both ways and the
upstream's close code and reason (4401, 4408, 1001 …) reach the client unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Sequence

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

log = logging.getLogger(__name__)

CLOSE_TRY_AGAIN = 1013
# Codes that only describe what happened and may not be sent in a close frame.
_RESERVED = {1005: 1000, 1006: 1012, 1015: 1011}
_SENDABLE = {1000, 1001, 1002, 1003, *range(1007, 1015)}
# Frames from ws_service are our own events; a result event is about as large as the
# worker's callback body (result_receiver takes up to 512 KiB, claims included). A frame
# over this would close the socket, and the replay on reconnect would close it again.
_MAX_FRAME = 1024 * 1024
_OPEN_TIMEOUT_S = 5.0


class UpstreamPicker:
    """Round-robin over ws_service URLs (instances share delivery through Redis)."""

    def __init__(self, urls: Sequence[str]) -> None:
        if not urls:
            raise ValueError("at least one upstream WebSocket URL is needed")
        self.urls = list(urls)
        self._cycle = itertools.cycle(self.urls)

    def next(self) -> str:
        return next(self._cycle)


async def proxy_websocket(
    client: WebSocket, upstream_ws_url: str, *, forward_headers: dict[str, str]
) -> None:
    """Accept ``client`` and relay it to ``upstream_ws_url`` until either side closes."""
    await client.accept()
    headers = dict(forward_headers)
    authorization = client.headers.get("authorization")
    if authorization is not None and not any(k.lower() == "authorization" for k in headers):
        headers["authorization"] = authorization
    try:
        upstream = await connect(
            upstream_ws_url,
            additional_headers=headers,
            open_timeout=_OPEN_TIMEOUT_S,
            max_size=_MAX_FRAME,
            compression=None,
            proxy=None,  # internal hop: never through an HTTP(S)_PROXY from the environment
            user_agent_header=None,
        )
    except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
        log.warning("ws upstream %s unreachable: %s", upstream_ws_url, exc)
        await _close_client(
            client,
            CLOSE_TRY_AGAIN,
            "upstream unavailable",
            error={
                "type": "error",
                "errorCode": "GW-WS-503",
                "message": "live updates are unavailable, retry shortly",
            },
        )
        return
    async with upstream:
        to_upstream = asyncio.create_task(_client_to_upstream(client, upstream))
        to_client = asyncio.create_task(_upstream_to_client(upstream, client))
        try:
            await asyncio.wait({to_upstream, to_client}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (to_upstream, to_client):
                task.cancel()
            await asyncio.gather(to_upstream, to_client, return_exceptions=True)
        if to_client.done() and not to_client.cancelled() and to_client.exception() is None:
            code, reason = to_client.result()
            await _close_client(client, code, reason)
        else:
            await _close_client(client, 1000, "")


async def _client_to_upstream(client: WebSocket, upstream: ClientConnection) -> None:
    while True:
        message = await client.receive()
        if message["type"] == "websocket.disconnect":
            code = message.get("code", 1000)
            with contextlib.suppress(ConnectionClosed):
                await upstream.close(_sendable(code), message.get("reason") or "")
            return
        text = message.get("text")
        data = text if text is not None else message.get("bytes")
        if data is not None:
            await upstream.send(data)


async def _upstream_to_client(upstream: ClientConnection, client: WebSocket) -> tuple[int, str]:
    """Copy frames until the upstream closes; return the close code and reason to pass on."""
    try:
        async for frame in upstream:
            if isinstance(frame, str):
                await client.send_text(frame)
            else:
                await client.send_bytes(frame)
    except ConnectionClosed:
        pass
    close = upstream.protocol.close_rcvd
    if close is None:
        return _RESERVED[1006], "upstream connection lost"
    return _sendable(close.code), close.reason


def _sendable(code: int) -> int:
    if code in _RESERVED:
        return _RESERVED[code]
    return code if code in _SENDABLE or 3000 <= code <= 4999 else 1011


async def _close_client(
    client: WebSocket, code: int, reason: str, *, error: dict[str, str] | None = None
) -> None:
    if (
        client.application_state != WebSocketState.CONNECTED
        or client.client_state != WebSocketState.CONNECTED
    ):
        return
    try:
        if error is not None:
            await client.send_text(orjson.dumps(error).decode())
        await client.close(code, reason.encode()[:120].decode(errors="ignore"))
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
