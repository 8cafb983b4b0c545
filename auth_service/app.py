"""Builds auth_service: accounts, access and refresh tokens, token validation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import Depends, FastAPI

from shared.clients.ratelimit import RateLimitClient
from shared.http import create_http_client
from shared.periodic import Periodic
from shared.service import new_app
from shared.service_auth import ServiceAuth, nonces_in
from shared.stores import open_stores

from .api_keys import ApiKeys
from .config import AuthSettings
from .deps import State
from .refresh import RefreshTokens
from .revocation import Revocations
from .routes import internal, public, wellknown
from .throttle import LoginThrottle
from .tokens import TokenService
from .users import UserRepository


def create_app(settings: AuthSettings) -> FastAPI:
    service_auth = ServiceAuth.from_settings(settings, nonces_in(State))
    tokens = TokenService(settings)  # keys load (or fail) before the app is served

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as opened:
            pool, redis = await open_stores(
                opened, settings, settings.redis_url, "auth", redis_timeout_s=2.0
            )
            ratelimit_http = create_http_client(
                settings.ratelimit_url,
                keyring=service_auth.keyring,
                timeout=3.0,
                timed_as=("auth_service", "ratelimit_service"),
            )
            opened.push_async_callback(ratelimit_http.aclose)
            refresh = RefreshTokens(pool, settings.refresh_ttl_s)
            purge = Periodic("refresh-purge", refresh.purge_expired)
            purge.start(settings.refresh_purge_interval_s)
            opened.push_async_callback(purge.stop)
            throttle = LoginThrottle(
                RateLimitClient(ratelimit_http, unavailable_code="AUTH-DEP-503"),
                settings.login_fail_endpoint,
            )
            app.state.runtime = State(
                settings=settings,
                redis=redis,
                pool=pool,
                users=UserRepository(pool),
                api_keys=ApiKeys(pool, redis),
                refresh=refresh,
                tokens=tokens,
                revocations=Revocations(redis),
                throttle=throttle,
                service_auth=service_auth,
            )
            yield

    app = new_app(
        service="auth_service",
        title="SatyaMark auth_service",
        error_prefix="AUTH",
        lifespan=lifespan,
        metrics=settings.metrics_port != 0,
    )
    app.include_router(public)
    app.include_router(wellknown)
    app.include_router(internal, dependencies=[Depends(service_auth)])
    return app
