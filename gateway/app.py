"""Builds the gateway: the public API, the web client and the WebSocket proxy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from shared.clients.auth import AuthClient, follow_revocations
from shared.clients.ratelimit import RateLimitClient
from shared.http import create_http_client
from shared.redis_client import create_redis
from shared.service import new_app
from shared.service_auth import Keyring

from .access import InvalidToken
from .admin import admin
from .api_keys import api_keys
from .config import GatewaySettings
from .deps import State
from .middleware import EdgeMiddleware
from .routes import router, wellknown
from .webapp import WebApp
from .webhooks import webhooks
from .ws_proxy import UpstreamPicker


def create_app(settings: GatewaySettings) -> FastAPI:
    keyring = Keyring.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            create_http_client(
                settings.auth_url,
                keyring=keyring,
                timeout=5.0,
                timed_as=("gateway", "auth_service"),
            ) as auth_http,
            create_http_client(
                settings.ratelimit_url,
                keyring=keyring,
                timeout=3.0,
                timed_as=("gateway", "ratelimit_service"),
            ) as ratelimit_http,
            create_http_client(
                settings.backend_url, keyring=keyring, timed_as=("gateway", "backend_service")
            ) as backend_http,
        ):
            app.state.runtime = State(
                settings=settings,
                # The cache is what lets the gateway keep up: a validation round-trip
                # per request would double the internal calls on the submit path.
                auth=AuthClient(
                    auth_http,
                    rejected=InvalidToken,
                    unavailable_code="GW-DEP-503",
                    cache_ttl_s=settings.auth_cache_ttl_s,
                    cache_size=settings.auth_cache_size,
                ),
                ratelimit=RateLimitClient(ratelimit_http, unavailable_code="GW-DEP-503"),
                auth_http=auth_http,
                backend_http=backend_http,
                ws_upstreams=UpstreamPicker(settings.ws_upstreams),
                ratelimit_http=ratelimit_http,
            )
            # Revoked API keys are announced on Redis; the only thing the gateway reads
            # there, so Redis being down costs key validations a round-trip, no more.
            feed = create_redis(settings.redis_url, "gateway", socket_timeout=None)
            auth = app.state.runtime.auth
            follower = asyncio.create_task(
                follow_revocations(feed, auth.forget_key, on_following=auth.trust_cached_keys)
            )
            try:
                yield
            finally:
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)
                await feed.aclose()

    app = new_app(
        service="gateway",
        title="SatyaMark API",
        error_prefix="GW",
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
        public=True,
    )
    app.include_router(router)
    app.include_router(admin)
    app.include_router(api_keys)
    app.include_router(webhooks)
    app.include_router(wellknown)
    json_routes = {
        (method, route.path): route.body_field.field_info.is_required()
        for route in [*router.routes, *api_keys.routes, *webhooks.routes]
        if isinstance(route, APIRoute) and route.body_field is not None
        for method in route.methods or ()
    }
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.max_body_bytes,
        json_routes=json_routes,
        hsts=settings.tls_enabled,
    )
    if settings.cors_origins:
        # Explicit allow-list only; credentials are bearer tokens, not cookies.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=[
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Warning",
                "Idempotent-Replayed",
            ],
        )
    if settings.frontend_path is not None:
        # Added last, so outermost: it replaces the edge's `no-store` with its own caching.
        app.add_middleware(WebApp, root=settings.frontend_path)
    return app
