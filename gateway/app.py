"""Builds the gateway: the public API, the web client and the WebSocket proxy."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from shared.clients.auth import AuthClient, follow_revocations
from shared.clients.ratelimit import RateLimitClient
from shared.http import DEFAULT_TIMEOUT_S, InternalClient, open_internal
from shared.redis_client import create_redis
from shared.runtime import closing, in_background
from shared.service import service_app
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

    async def open_state(opened: AsyncExitStack) -> State:
        def upstream(
            url: str, service: str, timeout_s: float = DEFAULT_TIMEOUT_S
        ) -> InternalClient:
            return open_internal(opened, keyring, url, ("gateway", service), timeout=timeout_s)

        auth_http = upstream(settings.auth_url, "auth_service", 5.0)
        ratelimit_http = upstream(settings.ratelimit_url, "ratelimit_service", 3.0)
        backend_http = upstream(settings.backend_url, "backend_service")
        # The cache is what lets the gateway keep up: a validation round-trip per
        # request would double the internal calls on the submit path.
        auth = AuthClient(
            auth_http,
            rejected=InvalidToken,
            unavailable_code="GW-DEP-503",
            cache_ttl_s=settings.auth_cache_ttl_s,
            cache_size=settings.auth_cache_size,
        )
        # Revoked API keys are announced on Redis; the only thing the gateway reads
        # there, so Redis being down costs key validations a round-trip, no more.
        feed = closing(opened, create_redis(settings.redis_url, "gateway", socket_timeout=None))
        in_background(
            opened,
            follow_revocations(feed, auth.forget_key, on_following=auth.trust_cached_keys),
        )
        return State(
            settings=settings,
            auth=auth,
            ratelimit=RateLimitClient(ratelimit_http, unavailable_code="GW-DEP-503"),
            auth_http=auth_http,
            backend_http=backend_http,
            ws_upstreams=UpstreamPicker(settings.ws_upstreams),
            ratelimit_http=ratelimit_http,
        )

    app = service_app(
        settings,
        "gateway",
        "GW",
        open_state,
        title="SatyaMark API",
        routers=[router, admin, api_keys, webhooks, wellknown],
        public=True,
    )
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
