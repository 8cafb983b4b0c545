"""What every FastAPI service shares: app construction, health routes, the runner."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import uvicorn
import websockets
from fastapi import FastAPI
from starlette.requests import HTTPConnection

from .config import CommonSettings
from .errors import install_error_handlers
from .responses import JsonResponse

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]
StateT = TypeVar("StateT")


def runtime_of(conn: HTTPConnection, kind: type[StateT]) -> StateT:
    """The service's typed state (each service's ``deps.State``), which its lifespan
    builds and puts on ``app.state.runtime``: the one untyped attribute we use."""
    runtime = getattr(conn.app.state, "runtime", None)
    if not isinstance(runtime, kind):
        raise RuntimeError(f"{kind.__name__} is not set up: is the app's lifespan running?")
    return runtime


def state_getter(kind: type[StateT]) -> Callable[[HTTPConnection], StateT]:
    """The dependency that hands handlers the service's typed state."""

    def get_state(conn: HTTPConnection) -> StateT:
        return runtime_of(conn, kind)

    return get_state


def new_app(
    *,
    title: str,
    error_prefix: str,
    lifespan: Callable[[FastAPI], AsyncIterator[Any]] | Lifespan | None,
    public: bool = False,
) -> FastAPI:
    """A FastAPI app with our error format and ``/healthz``.

    Internal services hide their OpenAPI docs; only the gateway publishes its schema.
    """
    docs: dict[str, Any] = (
        {} if public else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    )
    app = FastAPI(
        title=title,
        lifespan=lifespan,  # type: ignore[arg-type]
        default_response_class=JsonResponse,
        **docs,
    )
    install_error_handlers(app, error_prefix)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


_WEBSOCKETS_DIR = os.path.dirname(websockets.__file__) + os.sep


class _NoWireTrace(logging.Filter):
    """Drops the websockets library's DEBUG wire trace, which writes every handshake
    header (``Authorization``) and every frame (the auth message with its token, user
    text) verbatim. uvicorn hands its ``uvicorn.error`` logger to the library, so the
    trace arrives under that name."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG or not record.pathname.startswith(_WEBSOCKETS_DIR)


_NO_WIRE_TRACE = _NoWireTrace()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # httpx logs every request at INFO; on the hot path that is noise, not signal.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Logs never hold tokens or submitted text, even at DEBUG (see _NoWireTrace): the
    # gateway's upstream sockets log to "websockets.client", ws servers to uvicorn's.
    root_level = logging.getLogger().getEffectiveLevel()
    logging.getLogger("websockets").setLevel(max(logging.INFO, root_level))
    logging.getLogger("uvicorn.error").addFilter(_NO_WIRE_TRACE)


def serve(
    app: FastAPI,
    settings: CommonSettings,
    *,
    server_class: type[uvicorn.Server] = uvicorn.Server,
    **options: Any,
) -> None:
    """Run ``app`` under uvicorn (uvloop + httptools, no per-request access log).

    ``options`` are further ``uvicorn.Config`` arguments (WebSocket limits …);
    ``server_class`` lets a service hook uvicorn's shutdown (ws_service closes its
    sockets with 1001 first).
    """
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        proxy_headers=False,
        **options,
    )
    server_class(config).run()
