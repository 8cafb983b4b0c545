"""A user's pushed events over ``/v1/ws``, resumed across reconnects.

The socket authenticates with its first message (``{type: "auth", token,
lastEventId}``), so a credential never goes in a URL. Every event carries an
``eventId``; after a dropped connection the stream reconnects (with backoff) naming the
last one it saw, and the server replays what was missed, in order. When the server says
events may be gone for good (``truncated``, ``resync``), the caller is told so it can
read its tasks over the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .errors import SatyaMarkError

log = logging.getLogger(__name__)

# Close codes after which reconnecting cannot help (the credential was refused).
_FATAL_CODES = {"WS-AUTH-401", "WS-AUTH-408"}
LOST_EVENTS = ("truncated", "resync")


class EventStream:
    def __init__(
        self,
        ws_url: str,
        credential: str,
        *,
        last_event_id: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._url = ws_url
        self._credential = credential
        self._ssl = ssl_context
        self._max_backoff_s = max_backoff_s
        self._ws: ClientConnection | None = None
        self.last_event_id = last_event_id
        self.reconnects = 0

    async def __aenter__(self) -> EventStream:
        await self._connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def _connect(self) -> None:
        ws = await websockets.connect(self._url, ssl=self._ssl, open_timeout=10)
        try:
            auth: dict[str, Any] = {"type": "auth", "token": self._credential}
            if self.last_event_id is not None:
                auth["lastEventId"] = self.last_event_id
            await ws.send(json.dumps(auth))
            ready = json.loads(await asyncio.wait_for(ws.recv(), 15))
        except BaseException:
            await ws.close()
            raise
        if ready.get("type") != "ready":
            await ws.close()
            code = str(ready.get("errorCode", "SDK-WS-502"))
            status = 401 if code in _FATAL_CODES else 503
            raise SatyaMarkError(status, code, str(ready.get("message", ready)))
        if self.last_event_id is None:
            # From here on every event is new to us: resume after it ("0-0", the start of
            # the log, when it was empty: events may come before the first one we see).
            self.last_event_id = ready.get("lastEventId") or "0-0"
        self._ws = ws

    async def _reconnect(self, deadline: float | None) -> None:
        """Connect again, backing off, until it works or ``deadline`` passes."""
        await self.close()
        delay = 0.2
        while True:
            try:
                await self._connect()
                self.reconnects += 1
                return
            except SatyaMarkError as exc:
                if exc.status == 401:
                    raise
                why: str = str(exc)
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as exc:
                why = f"{type(exc).__name__}: {exc}"
            except InvalidURI as exc:
                raise SatyaMarkError(400, "SDK-URL-400", str(exc)) from exc
            if deadline is not None and time.monotonic() + delay > deadline:
                raise TimeoutError(f"could not reconnect the event stream: {why}")
            log.info("event stream lost (%s); reconnecting in %.1fs", why, delay)
            await asyncio.sleep(delay)
            delay = min(self._max_backoff_s, delay * 2)

    async def next(self, timeout_s: float | None = None) -> dict[str, Any]:
        """The next event (replayed or live), reconnecting as needed; raises
        ``TimeoutError`` when none came within ``timeout_s``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            if self._ws is None:
                await self._reconnect(deadline)
            assert self._ws is not None
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                raw = await asyncio.wait_for(self._ws.recv(), left)
            except ConnectionClosed:
                await self._reconnect(deadline)
                continue
            event: dict[str, Any] = json.loads(raw)
            if isinstance(event.get("eventId"), str):
                self.last_event_id = event["eventId"]
            return event
