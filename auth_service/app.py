"""Builds auth_service: accounts, access and refresh tokens, token validation."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import FastAPI

from shared.clients.ratelimit import RateLimitClient
from shared.http import open_internal
from shared.periodic import Periodic
from shared.runtime import started
from shared.service import service_app
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

    async def open_state(opened: AsyncExitStack) -> State:
        pool, redis = await open_stores(
            opened, settings, settings.redis_url, "auth", redis_timeout_s=2.0
        )
        to_ratelimit = ("auth_service", "ratelimit_service")
        ratelimit_http = open_internal(
            opened, service_auth.keyring, settings.ratelimit_url, to_ratelimit, timeout=3.0
        )
        refresh = RefreshTokens(pool, settings.refresh_ttl_s)
        purge = Periodic("refresh-purge", refresh.purge_expired)
        started(opened, purge, settings.refresh_purge_interval_s)
        throttle = LoginThrottle(
            RateLimitClient(ratelimit_http, unavailable_code="AUTH-DEP-503"),
            settings.login_fail_endpoint,
        )
        return State(
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

    return service_app(
        settings,
        "auth_service",
        "AUTH",
        open_state,
        routers=[public, wellknown],
        internal=[internal],
        guard=service_auth,
    )
