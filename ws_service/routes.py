"""``WS /ws``: authenticate, register, replay, then relay events until either side leaves.

The resume protocol (``lastEventId``, ``truncated``) is described in ``replay``.
"""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi import APIRouter
from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from shared.clients.auth import Identity, bearer_token
from shared.errors import UpstreamUnavailable

from . import messages
from .auth import BEARER_HINT, SocketUnauthorized
from .config import WsSettings
from .connection import (
    CLOSE_AUTH_TIMEOUT,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    Connection,
)
from .deps import Runtime, RuntimeDep
from .replay import greet

log = logging.getLogger(__name__)
router = APIRouter()


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket, rt: RuntimeDep) -> None:
    await websocket.accept()
    authenticated = await _authenticate(websocket, rt)
    if authenticated is None:
        return
    identity, last_event_id = authenticated
    conn = Connection(
        websocket,
        identity.user_id,
        queue_size=rt.settings.send_queue_size,
        send_timeout_s=rt.settings.send_timeout_s,
        key_id=identity.key_id,
        is_admin=identity.is_admin,
    )
    try:
        await rt.hub.add(conn)
    except RedisError as exc:
        log.warning("registering a socket failed: %s", exc)
        await _close(websocket, CLOSE_TRY_AGAIN, "WS-DEP-503", "cannot register socket, retry")
        return
    try:
        try:
            greeted = await greet(
                conn,
                rt.events,
                last_event_id,
                rt.settings.replay_max_events,
                rt.epoch.since_ms,
            )
        except RedisError as exc:
            log.warning("reading the event log failed: %s", exc)
            await _close(websocket, CLOSE_TRY_AGAIN, "WS-DEP-503", "cannot replay events, retry")
            return
        if greeted:
            await _serve(conn, rt.settings, identity.expires_at)
        await _close(websocket, conn.close_code, None, conn.close_reason)
    finally:
        await rt.hub.remove(conn)


async def _authenticate(websocket: WebSocket, rt: Runtime) -> tuple[Identity, object] | None:
    """The caller's identity and the ``lastEventId`` it gave (unchecked, None if none),
    or None after closing the socket with the reason."""
    try:
        header = websocket.headers.get("authorization")
        last_event_id: object = websocket.headers.get("last-event-id")
        if header is not None:
            token = bearer_token(header, rejected=SocketUnauthorized, message=BEARER_HINT)
        else:
            async with asyncio.timeout(rt.settings.auth_timeout_s):
                token, last_event_id = await _first_auth_message(websocket, rt.settings)
        return await rt.auth.validate(token), last_event_id
    except SocketUnauthorized as exc:
        await _close(websocket, CLOSE_UNAUTHORIZED, exc.error_code, exc.message)
    except TimeoutError:
        message = f"no auth message within {rt.settings.auth_timeout_s:g}s"
        await _close(websocket, CLOSE_AUTH_TIMEOUT, "WS-AUTH-408", message)
    except UpstreamUnavailable as exc:
        log.warning("token validation unavailable: %s", exc)
        await _close(websocket, CLOSE_TRY_AGAIN, "WS-DEP-503", "authentication unavailable")
    except WebSocketDisconnect:
        pass
    return None


async def _first_auth_message(websocket: WebSocket, settings: WsSettings) -> tuple[str, object]:
    """Wait for ``{type: "auth", token, lastEventId?}``; pings before it are answered."""
    while True:
        text = await _receive_text(websocket, settings.max_message_bytes)
        try:
            message = messages.parse(text)
        except messages.BadMessage as exc:
            raise SocketUnauthorized(f"first message must be an auth message: {exc}") from exc
        if message["type"] == "ping":
            await websocket.send_text(messages.PONG)
            continue
        token = message.get("token")
        if message["type"] != "auth" or not isinstance(token, str):
            raise SocketUnauthorized('first message must be {"type": "auth", "token": ...}')
        return token, message.get("lastEventId")


async def _receive_text(websocket: WebSocket, max_bytes: int) -> str:
    """The next text frame; binary frames and oversize frames are refused."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text: str | None = message.get("text")
    if text is None:
        raise SocketUnauthorized("only text frames are accepted")
    if len(text) > max_bytes or len(text.encode()) > max_bytes:
        raise SocketUnauthorized(f"message larger than {max_bytes} bytes")
    return text


async def _serve(conn: Connection, settings: WsSettings, expires_at: int | None) -> None:
    sender = conn.start_sender()
    receiver = asyncio.create_task(_receive_loop(conn, settings), name="ws-receive")
    # The socket lives no longer than the token that opened it.
    timeout = None if expires_at is None else max(0.0, expires_at - time.time())
    try:
        done, _ = await asyncio.wait(
            {sender, receiver}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if not done:
            conn.shut(CLOSE_UNAUTHORIZED, "token expired")
    finally:
        sender.cancel()
        receiver.cancel()
        await asyncio.gather(sender, receiver, return_exceptions=True)


async def _receive_loop(conn: Connection, settings: WsSettings) -> None:
    limit = settings.max_message_bytes
    while True:
        message = await conn.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            conn.push(messages.error("WS-MSG-415", "only text frames are accepted"))
            continue
        if len(text) > limit or len(text.encode()) > limit:
            conn.shut(CLOSE_TOO_BIG, f"message larger than {limit} bytes")
            return
        try:
            kind = messages.parse(text)["type"]
        except messages.BadMessage as exc:
            conn.push(messages.error("WS-MSG-400", str(exc)))
            continue
        if kind == "ping":
            conn.push(messages.PONG)
        elif kind == "auth":
            conn.push(messages.error("WS-MSG-409", "already authenticated"))
        else:
            conn.push(messages.error("WS-MSG-400", f"unknown message type {kind[:32]!r}"))


async def _close(websocket: WebSocket, code: int, error_code: str | None, message: str) -> None:
    """Send an error frame (if any) and the close frame, unless the client is gone."""
    if (
        websocket.application_state != WebSocketState.CONNECTED
        or websocket.client_state != WebSocketState.CONNECTED
    ):
        return
    try:
        async with asyncio.timeout(2.0):
            if error_code is not None:
                await websocket.send_text(messages.error(error_code, message))
            # A close reason may hold at most 123 bytes.
            await websocket.close(code, message.encode()[:120].decode(errors="ignore"))
    except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
        pass
