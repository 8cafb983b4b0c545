"""What every FastAPI service shares: app construction, health routes, the runner."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp

from . import health
from .config import CommonSettings
from .errors import install_error_handlers
from .logs import configure_logging
from .metrics import HttpMetrics
from .metrics_server import MetricsServer
from .responses import JsonResponse
from .runtime import RedisState, freeze_startup_heap
from .service_auth import ServiceAuth, nonces_in
from .trace_asgi import ServerSpans
from .tracing import configure_tracing

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


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


def service_app(
    settings: CommonSettings,
    service: str,
    error_prefix: str,
    open_state: Callable[[AsyncExitStack], Awaitable[object]],
    *,
    title: str | None = None,
    routers: Sequence[APIRouter] = (),
    internal: Sequence[APIRouter] = (),
    guard: ServiceAuth | None = None,
    public: bool = False,
) -> FastAPI:
    """``new_app`` with the lifespan every service has, and its routers.

    ``open_state`` opens what the service needs, puts on ``opened`` how to close each
    part, and returns the typed state, which goes on ``app.state.runtime``; it all
    closes, last opened first, when the app stops. ``routers`` are public; those in
    ``internal`` take signed service calls only (``guard``, by default a
    ``ServiceAuth`` keeping nonces in the state's Redis).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as opened:
            app.state.runtime = await open_state(opened)
            freeze_startup_heap()
            yield

    app = new_app(
        service=service,
        title=title or f"SatyaMark {service}",
        error_prefix=error_prefix,
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
        public=public,
    )
    for router in routers:
        app.include_router(router)
    if internal:
        check = guard or ServiceAuth.from_settings(settings, nonces_in(RedisState))
        for router in internal:
            app.include_router(router, dependencies=[Depends(check)])
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
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
        **options,
    )
    if settings.metrics_port:
        MetricsServer(settings.metrics_host, settings.metrics_port).start()
    server_class(config).run()
