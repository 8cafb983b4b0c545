"""Small pieces of plain ASGI middleware (no body buffering)."""

from __future__ import annotations

from starlette.types import Message, Send


class StatusNoting:
    """``send`` that notes the response's status as it starts (``status`` stays as
    given, e.g. None or the 500 a client gets from an app that raised, until then)."""

    __slots__ = ("_send", "status")

    def __init__(self, send: Send, status: int | None) -> None:
        self._send = send
        self.status = status

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)
