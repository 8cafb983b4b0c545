"""One authenticated socket and its outbound queue."""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect
from ulid import ULID

from shared.notify import BadEventId, parse_event_id

log = logging.getLogger(__name__)

# Close codes we send (1000-1015 are RFC 6455's; 4xxx mirror HTTP statuses).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013
CLOSE_UNAUTHORIZED = 4401
CLOSE_AUTH_TIMEOUT = 4408


class Connection:
    """A socket whose writes all go through one sender task.

    Delivery only puts text on a bounded queue, so a slow or stuck client delays nobody
    else; when its queue is full it is disconnected (it can reconnect and catch up).

    Before the sender starts, the handler may write frames directly (``send_now``: the
    ready message and a replay) while live events pile up on the queue; ``skip_through``
    then makes the sender drop queued events the replay already covered.
    """

    def __init__(
        self, websocket: WebSocket, user_id: str, *, queue_size: int, send_timeout_s: float
    ) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.socket_id = str(ULID())
        self.close_code = CLOSE_NORMAL
        self.close_reason = ""
        self._queue: asyncio.Queue[tuple[tuple[int, int] | None, str]] = asyncio.Queue(
            maxsize=queue_size
        )
        self._floor: tuple[int, int] | None = None
        self._send_timeout_s = send_timeout_s
        self._sender: asyncio.Task[None] | None = None
        self._shut = False

    @property
    def is_shut(self) -> bool:
        return self._shut

    def push(self, text: str, event_id: str | None = None) -> bool:
        """Queue ``text`` without waiting; a full queue shuts the connection."""
        if self._shut:
            return False
        try:
            key = parse_event_id(event_id) if event_id is not None else None
        except BadEventId:
            key = None
        try:
            self._queue.put_nowait((key, text))
        except asyncio.QueueFull:
            log.warning("socket %s of %s too slow, disconnecting", self.socket_id, self.user_id)
            self.shut(CLOSE_TRY_AGAIN, "too slow: send queue full")
            return False
        return True

    def shut(self, code: int, reason: str) -> None:
        """Ask the connection to end; the first caller's close code wins."""
        if self._shut:
            return
        self._shut = True
        self.close_code, self.close_reason = code, reason
        # The handler waits on the sender task; ending it wakes the handler up.
        if self._sender is not None and self._sender is not asyncio.current_task():
            self._sender.cancel()

    def skip_through(self, event_id: str | None) -> None:
        """Drop queued events whose eventId is at or before ``event_id`` (replayed)."""
        self._floor = parse_event_id(event_id) if event_id is not None else None

    async def send_now(self, text: str) -> bool:
        """Write ``text`` directly (only before the sender starts); False if it failed."""
        if self._shut:
            return False
        try:
            async with asyncio.timeout(self._send_timeout_s):
                await self.websocket.send_text(text)
        except TimeoutError:
            self.shut(CLOSE_TRY_AGAIN, "too slow: send timed out")
            return False
        except (WebSocketDisconnect, RuntimeError, OSError):
            self.shut(CLOSE_NORMAL, "peer gone")
            return False
        return True

    def start_sender(self) -> asyncio.Task[None]:
        self._sender = asyncio.create_task(self._send_loop(), name=f"ws-send-{self.socket_id}")
        if self._shut:
            self._sender.cancel()
        return self._sender

    async def _send_loop(self) -> None:
        while True:
            key, text = await self._queue.get()
            if key is not None and self._floor is not None and key <= self._floor:
                continue
            try:
                async with asyncio.timeout(self._send_timeout_s):
                    await self.websocket.send_text(text)
            except TimeoutError:
                self.shut(CLOSE_TRY_AGAIN, "too slow: send timed out")
                return
            except (WebSocketDisconnect, RuntimeError, OSError):
                # The peer is gone; the receive side notices and ends the handler.
                return
