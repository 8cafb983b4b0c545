"""The gateway's calls to auth_service and ratelimit_service."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from cachetools import TTLCache

from shared.errors import RateLimited, Unauthorized, UpstreamUnavailable
from shared.http import call_upstream


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    expires_at: int


class InvalidToken(Unauthorized):
    code = "GW-AUTH-401"


class AuthClient:
    """Validates bearer tokens through auth_service, remembering good answers briefly.

    The cache is what lets the gateway keep up: a validation round-trip per request
    would double the internal calls on the submit path. Entries never outlive the
    token's own expiry, and a logged-out (revoked) token stops working within the
    cache time (``GATEWAY_AUTH_CACHE_TTL_S``, at most 30 s).
    """

    JWKS_TTL_S = 60.0

    def __init__(self, client: httpx.AsyncClient, ttl_s: float, size: int) -> None:
        self._client = client
        self._ttl_s = ttl_s
        # ttl 0 = ask auth_service every time (a revoked token is refused at once)
        self._cache: TTLCache[str, Identity] | None = (
            TTLCache(maxsize=size, ttl=ttl_s) if ttl_s > 0 else None
        )
        self._jwks: tuple[float, bytes] | None = None

    def forget(self, token: str) -> None:
        """Drop a token from the cache (after its logout through this gateway)."""
        if self._cache is not None:
            self._cache.pop(token, None)

    async def jwks(self) -> bytes:
        """auth_service's public keys, fetched at most once a minute."""
        now = time.monotonic()
        if self._jwks is not None and now - self._jwks[0] < self.JWKS_TTL_S:
            return self._jwks[1]
        response = await call_upstream(
            self._client, "GET", "/.well-known/jwks.json", service="auth_service"
        )
        if response.status_code != 200:
            raise UpstreamUnavailable("auth_service failed", code="GW-DEP-503")
        self._jwks = (now, response.content)
        return response.content

    async def identify(self, token: str) -> Identity:
        known = self._cache.get(token) if self._cache is not None else None
        if known is not None and known.expires_at > time.time():
            return known
        response = await call_upstream(
            self._client,
            "POST",
            "/internal/validate",
            service="auth_service",
            json={"token": token},
        )
        if response.status_code in (401, 422):
            message = "token is invalid or expired"
            if response.status_code == 401:
                message = response.json().get("message", message)
            raise InvalidToken(message)
        if response.status_code != 200:
            raise UpstreamUnavailable("auth_service failed", code="GW-DEP-503")
        body = response.json()
        identity = Identity(user_id=body["userId"], expires_at=int(body["expiresAt"]))
        if self._cache is not None:
            self._cache[token] = identity
        return identity


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    remaining: int
    # allowed, but under the rule's soft limit: the client should slow down
    near_limit: bool = False

    def headers(self) -> dict[str, str]:
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining)}
        if self.near_limit:
            headers["RateLimit-Warning"] = f"approaching limit; remaining={self.remaining}"
        return headers


class RateLimitClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def take(self, endpoint: str, subject: str) -> Quota:
        """Spend one token; raise ``RateLimited`` (429 + Retry-After) when none is left."""
        response = await call_upstream(
            self._client,
            "POST",
            "/internal/check",
            service="ratelimit_service",
            json={"endpoint": endpoint, "subject": subject},
        )
        if response.status_code != 200:
            # Fail closed: without a decision nothing is forwarded.
            raise UpstreamUnavailable("rate limiting unavailable", code="GW-DEP-503")
        body = response.json()
        quota = Quota(
            limit=int(body["limit"]),
            remaining=int(body["remaining"]),
            near_limit=bool(body.get("nearLimit", False)),
        )
        if not body["allowed"]:
            retry_after_s = max(1, -(-int(body["retryAfterMs"]) // 1000))
            raise RateLimited(
                f"rate limit for {endpoint} exceeded, retry in {retry_after_s}s",
                code="GW-RATE-429",
                headers={"Retry-After": str(retry_after_s), **quota.headers()},
            )
        return quota
