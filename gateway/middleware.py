"""ASGI middleware for the public edge: body limits, JSON only, security headers.

Written as plain ASGI (not BaseHTTPMiddleware) so the limit applies while the body
streams in, before anything parses it.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    # The web client needs nothing from other origins.
    (
        b"content-security-policy",
        b"default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'",
    ),
]


async def _error(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"errorCode": code, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _has_body(headers: dict[bytes, bytes]) -> bool:
    return b"transfer-encoding" in headers or headers.get(b"content-length", b"0") != b"0"


class _TooLarge(StarletteHTTPException):
    # An HTTPException so FastAPI's body reader passes it through unchanged (it turns
    # any other error while reading into a 400).
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        json_routes: Mapping[tuple[str, str], bool],
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # (method, path) of the routes that take a JSON body -> whether the body is
        # required; anything else is left to the router, so an undeclared method still
        # answers 405, not 415. A route whose body is optional may be called without one
        # (and then without a content type).
        self.json_routes = dict(json_routes)
        self.extra_headers = list(SECURITY_HEADERS)
        if hsts:
            self.extra_headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        body_required = self.json_routes.get((scope["method"], scope["path"]))
        if body_required is not None and (body_required or _has_body(headers)):
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if content_type != b"application/json":
                await _error(send, 415, "GW-VAL-415", "content type must be application/json")
                return
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _error(send, 413, "GW-VAL-413", f"request body over {self.max_body_bytes} bytes")
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge(self.max_body_bytes)
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *self.extra_headers]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except _TooLarge:
            if not started:
                await _error(
                    send, 413, "GW-VAL-413", f"request body over {self.max_body_bytes} bytes"
                )
