"""The single-page web app (frontend/dist, built by Vite) served beside the API."""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Never the web app: an unknown API path stays the API's JSON 404, and so does
# /metrics, which lives on the metrics port only (never on the public one).
_API_PREFIXES = ("/v1/", "/.well-known/", "/metrics/", "/internal/")
_NOT_KEPT = {b"content-type", b"content-length", b"cache-control"}
# Hashed file names: a new build has new names, so a file never changes.
_IMMUTABLE = "public, max-age=31536000, immutable"


class WebApp:
    """Serves the single-page web app where the API has nothing: a GET the API answers
    404 gets the file under ``root`` (``/assets/*``: cached for good) or else
    ``index.html`` (every app route, revalidated on each load). A missing asset stays a
    404: an HTML page in place of a stale script would only fail later."""

    def __init__(self, app: ASGIApp, root: Path) -> None:
        self.app = app
        self.files = StaticFiles(directory=root)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"] if scope["type"] == "http" else ""
        if scope.get("method") not in ("GET", "HEAD") or f"{path}/".startswith(_API_PREFIXES):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_404(message: Message) -> None:
            if held or (message["type"] == "http.response.start" and message["status"] == 404):
                held.append(message)
            else:
                await send(message)

        await self.app(scope, receive, hold_404)
        if not held:
            return
        response = await self._file(path.lstrip("/"), scope)
        if response is None:
            for message in held:
                await send(message)
            return
        # The edge's security headers (CSP, frame, HSTS...) came with the 404: keep them.
        response.raw_headers.extend(
            (name, value) for name, value in held[0]["headers"] if name not in _NOT_KEPT
        )
        await response(scope, receive, send)

    async def _file(self, path: str, scope: Scope) -> Response | None:
        asset = path.startswith("assets/")
        try:
            response = await self.files.get_response(path, scope)
        except HTTPException:
            if asset:
                return None
            path = "index.html"
            response = await self.files.get_response(path, scope)
        response.headers["cache-control"] = _IMMUTABLE if asset else "no-cache"
        return response
