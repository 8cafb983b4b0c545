"""auth_service's internal API: token validation and the public keys."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis
from cachetools import TTLCache
from redis.exceptions import RedisError

from shared import keys
from shared.errors import Unauthorized, UpstreamUnavailable
from shared.http import call_upstream

from ..http import InternalClient, InternalResponse

# Set by the gateway to the address its client connected from; auth_service believes
# it only on requests signed with an internal key (shared/service_auth.py).
CLIENT_IP_HEADER = "x-satyamark-client-ip"
# auth_service refuses longer tokens unread; clients refuse them without asking.
MAX_TOKEN_CHARS = 4096
BEARER_HINT = "send Authorization: Bearer <token or API key>"

log = logging.getLogger(__name__)


# What an API key may be allowed to do (both by default). A login token may do all.
SCOPES = ("verify", "tasks:read")
API_KEY_PREFIX = "sm_live_"


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    expires_at: int
    role: str = "user"
    # Set for an API key: its id and what it may do (None: a login token, all of it).
    key_id: str | None = None
    scopes: frozenset[str] | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


def bearer_token(
    header: str | None, *, rejected: type[Unauthorized], message: str = BEARER_HINT
) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; ``rejected(message)``
    is raised for anything else."""
    scheme, _, token = (header or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise rejected(message)
    return token


class AuthClient:
    """Validates tokens through auth_service, optionally remembering good answers.

    ``rejected`` is raised (with auth_service's message, else its default one) for a
    bad token; outages raise ``UpstreamUnavailable`` with ``unavailable_code``. With
    ``cache_ttl_s`` > 0 a validated token is trusted that long (never past its own
    expiry) without asking again, so a revoked token keeps working that long.
    """

    JWKS_TTL_S = 60.0

    def __init__(
        self,
        http: InternalClient,
        *,
        rejected: type[Unauthorized],
        unavailable_code: str,
        cache_ttl_s: float = 0.0,
        cache_size: int = 50_000,
    ) -> None:
        self._http = http
        self._rejected = rejected
        self._unavailable_code = unavailable_code
        self._cache: TTLCache[str, Identity] | None = (
            TTLCache(maxsize=cache_size, ttl=cache_ttl_s) if cache_ttl_s > 0 else None
        )
        self._jwks: tuple[float, bytes] | None = None
        # Cache API keys only while follow_revocations is subscribed.
        self._cache_keys = False

    def forget(self, token: str) -> None:
        """Drop a token from the cache (after its logout)."""
        if self._cache is not None:
            self._cache.pop(token, None)

    def forget_key(self, key_id: str | None = None) -> None:
        """Drop a revoked API key from the cache (every key with None)."""
        if self._cache is None:
            return
        for token, identity in list(self._cache.items()):
            if identity.key_id is not None and (key_id is None or identity.key_id == key_id):
                self._cache.pop(token, None)

    def trust_cached_keys(self, trusted: bool) -> None:
        """Cache API keys only while revocations are followed (``follow_revocations``):
        a revocation missed meanwhile must not keep a key alive. Off drops them all."""
        self._cache_keys = trusted
        if not trusted:
            self.forget_key()

    async def jwks(self) -> bytes:
        """auth_service's public keys, fetched at most once a minute."""
        now = time.monotonic()
        if self._jwks is not None and now - self._jwks[0] < self.JWKS_TTL_S:
            return self._jwks[1]
        response = await call_upstream(
            self._http, "GET", "/.well-known/jwks.json", service="auth_service"
        )
        if response.status_code != 200:
            raise self._unavailable("auth_service failed")
        self._jwks = (now, response.content)
        return response.content

    async def validate(self, token: str) -> Identity:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise self._rejected()
        known = self._cache.get(token) if self._cache is not None else None
        if known is not None and known.expires_at > time.time():
            return known
        response = await call_upstream(
            self._http, "POST", "/internal/validate", service="auth_service", json={"token": token}
        )
        if response.status_code in (401, 422):
            raise self._rejected(_message(response) if response.status_code == 401 else None)
        if response.status_code != 200:
            raise self._unavailable("auth_service failed")
        try:
            body = response.json()
            scopes = body.get("scopes")
            identity = Identity(
                user_id=body["userId"],
                expires_at=int(body["expiresAt"]),
                role=str(body.get("role", "user")),
                key_id=body.get("keyId"),
                scopes=None if scopes is None else frozenset(map(str, scopes)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise self._unavailable("auth_service gave an unreadable answer") from exc
        if not isinstance(identity.user_id, str) or not identity.user_id:
            raise self._unavailable("auth_service gave no userId")
        if self._cache is not None and (identity.key_id is None or self._cache_keys):
            self._cache[token] = identity
        return identity

    def _unavailable(self, message: str) -> UpstreamUnavailable:
        return UpstreamUnavailable(message, code=self._unavailable_code)


def _message(response: InternalResponse) -> str | None:
    """auth_service's reason for a refusal, if it gave one."""
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        return None
    return message if isinstance(message, str) and message else None


async def follow_revocations(
    redis: aioredis.Redis,
    on_revoked: Callable[[str], object],
    *,
    on_following: Callable[[bool], None] = lambda _: None,
    retry_s: float = 1.0,
) -> None:
    """Run until cancelled: call ``on_revoked(key_id)`` for each API key auth_service
    revokes (``keys.REVOKED_CREDENTIALS``), and ``on_following(True/False)`` as the
    subscription starts and is lost (it is retried every ``retry_s``)."""
    while True:
        try:
            async with redis.pubsub() as pubsub:
                await pubsub.subscribe(keys.REVOKED_CREDENTIALS)
                on_following(True)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    try:
                        key_id = orjson.loads(message["data"]).get("keyId")
                    except (orjson.JSONDecodeError, AttributeError):
                        continue
                    if isinstance(key_id, str):
                        on_revoked(key_id)
        except (RedisError, OSError) as exc:
            log.warning("revocation feed lost (%s); retrying in %.0fs", exc, retry_s)
        finally:
            on_following(False)
        await asyncio.sleep(retry_s)
