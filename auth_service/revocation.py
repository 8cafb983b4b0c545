"""Revoked token ids in Redis, each kept only as long as the token could still be used."""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared import keys
from shared.errors import UpstreamUnavailable

from .tokens import LEEWAY_S, TokenClaims


class Revocations:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client

    async def revoke(self, claims: TokenClaims) -> None:
        ttl = max(1, claims.expires_at - int(time.time()) + LEEWAY_S + 1)
        try:
            await self._redis.set(keys.revoked_jti(claims.jti), b"1", ex=ttl)
        except RedisError as exc:
            raise UpstreamUnavailable("revocation store unavailable", code="AUTH-DEP-503") from exc

    async def is_revoked(self, jti: str) -> bool:
        """Fails closed: without an answer from Redis no token is accepted."""
        try:
            return bool(await self._redis.exists(keys.revoked_jti(jti)))
        except RedisError as exc:
            raise UpstreamUnavailable("revocation store unavailable", code="AUTH-DEP-503") from exc
