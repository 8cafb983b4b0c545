"""One authenticated socket and its outbound queue."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from starlette.websockets import WebSocket, WebSocketDisconnect
from ulid import ULID

from shared.metrics import WS_DROPPED
from shared.notify import BadEventId, parse_event_id

log = logging.getLogger(__name__)

# Close codes we send (1000-1015 are RFC 6455's; 4xxx mirror HTTP statuses).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013
CLOSE_UNAUTHORIZED = 4401
CLOSE_AUTH_TIMEOUT = 4408


EventKey = tuple[int, int]


class Connection:
    """A socket whose writes all go through one sender task.

    Delivery only puts text on a bounded queue, so a slow or stuck client delays nobody
    else; when its queue is full it is disconnected (it can reconnect and catch up).

    Before the sender starts, the handler may write frames directly (``send_now``: the
    ready message and a replay) while live events pile up on the queue; ``skip_through``
    then makes the sender drop queued events the replay already covered.

    The sender never sends an event at or before the newest one it sent (``cursor``), so
    an event queued twice goes out once. A user's events arrive in eventId order, except
    after a gap in live delivery (pub/sub lost, registration lost): then
    ``begin_catch_up`` holds live events back, and ``end_catch_up`` queues the events the
    log holds after the gap together with the held ones, in order and each once.
    """

    # Ten thousand of these per process: no per-instance dict.
    __slots__ = (
        "_cursor",
        "_gap_from",
        "_held",
        "_newest",
        "_pending",
        "_queue_size",
        "_send_timeout_s",
        "_sender",
        "_sending_since",
        "_shut",
        "_wakeup",
        "close_code",
        "close_reason",
        "is_admin",
        "key_id",
        "socket_id",
        "user_id",
        "websocket",
    )  # fmt: skip

    def __init__(
        self,
        websocket: WebSocket,
        user_id: str,
        *,
        queue_size: int,
        send_timeout_s: float,
        key_id: str | None = None,
        is_admin: bool = False,
    ) -> None:
        self.websocket = websocket
        self.user_id = user_id
        self.key_id = key_id  # the API key it authenticated with (None: a login token)
        self.is_admin = is_admin  # gets the queue view pushed (ws_service/ops_feed.py)
        self.socket_id = str(ULID())
        self.close_code = CLOSE_NORMAL
        self.close_reason = ""
        # The outbound queue: a deque and, while the sender waits on it, a future to wake
        # it (an asyncio.Queue holds three deques and an Event: ~2.5 KiB a socket).
        self._pending: deque[tuple[EventKey | None, str]] = deque()
        self._queue_size = queue_size
        self._wakeup: asyncio.Future[None] | None = None
        # Newest event handed to the socket (or covered by the replay), and newest queued.
        self._cursor: EventKey | None = None
        self._newest: EventKey | None = None
        # During a catch-up: the newest event received before the gap, and live events
        # held back until the log has been read.
        self._gap_from: EventKey | None = None
        self._held: list[tuple[EventKey, str]] | None = None
        self._send_timeout_s = send_timeout_s
        # When the write in progress began (None: none): a write stuck past the timeout
        # is found by ``shut_if_stuck``, not by a timer armed around every send.
        self._sending_since: float | None = None
        self._sender: asyncio.Task[None] | None = None
        self._shut = False

    @property
    def is_shut(self) -> bool:
        return self._shut

    @property
    def live(self) -> bool:
        """Set up (ready sent, sender running) and not shut."""
        return self._sender is not None and not self._shut

    @property
    def catching_up(self) -> bool:
        return self._held is not None

    @property
    def gap_from(self) -> str:
        """During a catch-up: the eventId after which the log must be read."""
        ms, seq = self._gap_from or (0, 0)
        return f"{ms}-{seq}"

    def push(self, text: str, event_id: str | None = None) -> bool:
        """Queue ``text`` without waiting; a full queue shuts the connection."""
        if self._shut:
            return False
        try:
            key = parse_event_id(event_id) if event_id is not None else None
        except BadEventId:
            key = None
        if key is not None and self._held is not None:
            if len(self._held) >= self._queue_size:
                return self._too_slow("too slow: events held during catch-up")
            self._held.append((key, text))
            return True
        return self._enqueue(key, text)

    def _enqueue(self, key: EventKey | None, text: str) -> bool:
        if len(self._pending) >= self._queue_size:
            return self._too_slow("too slow: send queue full")
        self._pending.append((key, text))
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        if key is not None and (self._newest is None or key > self._newest):
            self._newest = key
        return True

    def _too_slow(self, reason: str) -> bool:
        log.warning("socket %s of %s: %s, disconnecting", self.socket_id, self.user_id, reason)
        WS_DROPPED.inc()
        self.shut(CLOSE_TRY_AGAIN, reason)
        return False

    def begin_catch_up(self) -> None:
        """Live delivery had a gap: hold live events back until ``end_catch_up``.
        Call before the log is read; a second call keeps the first gap."""
        if self._held is not None or self._shut:
            return
        self._gap_from = max(filter(None, (self._cursor, self._newest)), default=None)
        self._held = []

    def end_catch_up(self, logged: list[tuple[str, str]]) -> int:
        """Queue the ``logged`` events ``(eventId, text)`` after the gap and the held live
        ones, in eventId order, each once; return how many had not arrived live.

        ``logged`` is the log read after ``begin_catch_up`` from ``gap_from`` (or empty
        when no event can have been missed)."""
        held, self._held = self._held or [], None
        floor = self._gap_from
        merged = {key: text for key, text in held if floor is None or key > floor}
        missed = 0
        for event_id, text in logged:
            key = parse_event_id(event_id)
            if (floor is None or key > floor) and key not in merged:
                merged[key] = text
                missed += 1
        for key in sorted(merged):
            if not self._enqueue(key, merged[key]):
                return missed
        return missed

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
        self._cursor = parse_event_id(event_id) if event_id is not None else None

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

    def shut_if_stuck(self, now: float) -> bool:
        """Shut the socket if a write has waited longer than the send timeout (its
        client stopped reading); the hub asks every socket once a second."""
        since = self._sending_since
        if since is None or now - since <= self._send_timeout_s or self._shut:
            return False
        self.shut(CLOSE_TRY_AGAIN, "too slow: send timed out")
        return True

    async def _next(self) -> tuple[EventKey | None, str]:
        while not self._pending:
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        return self._pending.popleft()

    async def _send_loop(self) -> None:
        while True:
            key, text = await self._next()
            if key is not None:
                if self._cursor is not None and key <= self._cursor:
                    continue
                self._cursor = key
            self._sending_since = time.monotonic()
            try:
                await self.websocket.send_text(text)
            except (WebSocketDisconnect, RuntimeError, OSError):
                # The peer is gone; the receive side notices and ends the handler.
                return
            finally:
                self._sending_since = None
