"""What every FastAPI service shares: app construction, health routes, the runner."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp

from . import health
from .config import CommonSettings
from .errors import install_error_handlers
from .logs import configure_logging
from .metrics import HttpMetrics
from .metrics_server import MetricsServer
from .responses import JsonResponse
from .trace_asgi import ServerSpans
from .tracing import configure_tracing

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


class _App(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        # Server spans wrap every middleware, those a service adds after new_app too.
        return ServerSpans(super().build_middleware_stack())


def new_app(
    *,
    service: str,
    title: str,
    error_prefix: str,
    lifespan: Callable[[FastAPI], AsyncIterator[Any]] | Lifespan | None,
    public: bool = False,
    metrics: bool = True,
) -> FastAPI:
    """A FastAPI app with our error format, request metrics, ``/healthz`` (kept for
    older probes), ``/livez`` and ``/readyz``.

    Internal services hide their OpenAPI docs; only the gateway publishes its schema.
    ``/readyz`` runs the probes of the state the lifespan puts on ``app.state.runtime``
    (``shared/health.py``); a state without probes is ready once it exists.
    """
    docs: dict[str, Any] = (
        {} if public else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    )
    app = _App(
        title=title,
        lifespan=lifespan,  # type: ignore[arg-type]
        default_response_class=JsonResponse,
        # Our server spans (shared/trace_asgi.py) instead of FastAPI's own: those cost
        # ~40 us per request even where the sampler drops the span.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        **docs,
    )
    install_error_handlers(app, error_prefix)
    if metrics:  # off with the metrics port: nobody could scrape what it counts
        app.add_middleware(HttpMetrics, service=service)

    @app.get("/healthz", include_in_schema=False)
    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        runtime = getattr(request.app.state, "runtime", None)
        if runtime is None:
            readiness = health.Readiness({"startup": "not finished"})
        elif isinstance(runtime, health.HasProbes):
            readiness = await health.check(runtime.probes())
        else:
            readiness = health.Readiness({})
        if readiness.ready:
            return JsonResponse({"status": "ready"})
        body = {
            "status": "unavailable",
            "errorCode": f"{error_prefix}-NOT-READY",
            "message": f"not ready: {readiness.message()}",
            "failing": sorted(readiness.failing),
        }
        return JsonResponse(body, status_code=503)

    return app


def serve(
    app: FastAPI,
    settings: CommonSettings,
    *,
    service_name: str,
    server_class: type[uvicorn.Server] = uvicorn.Server,
    **options: Any,
) -> None:
    """Run ``app`` under uvicorn (uvloop + httptools, no per-request access log).

    ``options`` are further ``uvicorn.Config`` arguments (WebSocket limits …);
    ``server_class`` lets a service hook uvicorn's shutdown (ws_service closes its
    sockets with 1001 first).
    """
    configure_logging(service_name, settings.log_level)
    configure_tracing(service_name)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,  # logging is ours (shared.logs): uvicorn's loggers propagate
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
        proxy_headers=False,
        **options,
    )
    if settings.metrics_port:
        MetricsServer(settings.metrics_host, settings.metrics_port).start()
    server_class(config).run()
