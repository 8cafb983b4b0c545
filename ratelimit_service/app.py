from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from pydantic import Field
from redis.exceptions import RedisError

from shared.errors import NotFound, UpstreamUnavailable
from shared.redis_client import create_redis
from shared.schemas import Strict
from shared.service import new_app
from shared.service_auth import ServiceAuth

from .buckets import TokenBuckets
from .config import RateLimitSettings


class CheckRequest(Strict):
    endpoint: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    subject: str = Field(min_length=1, max_length=256)
    cost: int = Field(default=1, ge=1, le=1000)
    # Only report whether ``cost`` tokens are there, spending none (e.g. auth_service
    # asks before checking a password and spends only when the login fails).
    peek: bool = False


class CheckResponse(Strict):
    allowed: bool
    limit: int
    remaining: int
    retryAfterMs: int
    # allowed, with fewer tokens left than the rule's soft limit (a warning, not a refusal)
    nearLimit: bool


def create_app(settings: RateLimitSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = create_redis(settings.redis_url, "ratelimit", socket_timeout=2.0)
        app.state.buckets = TokenBuckets(client)
        app.state.nonce_redis = client
        try:
            yield
        finally:
            await client.aclose()

    app = new_app(title="SatyaMark ratelimit_service", error_prefix="RL", lifespan=lifespan)
    check_internal = ServiceAuth.from_settings(settings)

    @app.post("/internal/check", dependencies=[Depends(check_internal)])
    async def check(body: CheckRequest, request: Request) -> CheckResponse:
        rule = settings.rule(body.endpoint)
        if rule is None:
            raise NotFound(f"no rate-limit rule for endpoint {body.endpoint!r}", code="RL-RULE-404")
        buckets: TokenBuckets = request.app.state.buckets
        try:
            decision = await buckets.take(
                body.endpoint, body.subject, rule, body.cost, peek=body.peek
            )
        except RedisError as exc:
            raise UpstreamUnavailable("rate-limit store unavailable", code="RL-DEP-503") from exc
        return CheckResponse(
            allowed=decision.allowed,
            limit=decision.limit,
            remaining=decision.remaining,
            retryAfterMs=decision.retry_after_ms,
            nearLimit=decision.near_limit(settings.soft_limit(rule)),
        )

    return app
