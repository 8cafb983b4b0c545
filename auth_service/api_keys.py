"""API keys: ``sm_live_<id>_<secret>``, created and revoked by their owner.

The secret is 256 random bits, so a plain SHA-256 of it is as safe to store as a slow
password hash and costs nothing per request. Revocation is published on Redis
(``keys.REVOKED_CREDENTIALS``) so that gateways drop a cached key at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from shared import keys
from shared.clients.auth import API_KEY_PREFIX, SCOPES
from shared.db import UNAVAILABLE
from shared.errors import Conflict, UpstreamUnavailable, ValidationFailed, store_unavailable_as
from shared.ids import random_id

from .tokens import InvalidToken

ID_LENGTH = 16
MAX_ACTIVE_KEYS = 50
# last_used_at is written at most this often per key (validation is on the hot path).
LAST_USED_RESOLUTION = timedelta(seconds=60)
# The gateway trusts a validated key at most this long without asking again; the
# revocation message normally drops it far sooner.
VALIDATION_TTL_S = 300


class TooManyKeys(
    Conflict, code="AUTH-KEYS-409", message=f"at most {MAX_ACTIVE_KEYS} active API keys per account"
): ...


class BadExpiry(
    ValidationFailed, code="AUTH-KEY-422", message="expiresAt must be in the future"
): ...


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None

    @property
    def prefix(self) -> str:
        return f"{API_KEY_PREFIX}{self.id}"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": self.scopes,
            "createdAt": self.created_at.isoformat(),
            "expiresAt": self.expires_at.isoformat() if self.expires_at else None,
            "lastUsedAt": self.last_used_at.isoformat() if self.last_used_at else None,
        }


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """A valid key: whose it is, what it may do, and until when to trust it."""

    key_id: str
    user_id: str
    scopes: list[str]
    trust_until: int


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_key(token: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    key_id, sep, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(key_id) != ID_LENGTH or not 32 <= len(secret) <= 128:
        return None
    return key_id, secret


# The columns of an ``ApiKey`` (its fields), as asyncpg returns them: ``ApiKey(**row)``.
_COLUMNS = ", ".join(f.name for f in fields(ApiKey))


class ApiKeys:
    def __init__(self, pool: asyncpg.Pool, redis: aioredis.Redis) -> None:
        self._pool = pool
        self._redis = redis

    async def create(
        self,
        user_id: str,
        name: str,
        scopes: Sequence[str] | None,
        expires_at: datetime | None,
    ) -> tuple[ApiKey, str]:
        """The new key and its full secret form (shown once, never stored)."""
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise BadExpiry()
        key_id = random_id(ID_LENGTH)
        secret = secrets.token_hex(32)
        wanted = sorted(set(scopes)) if scopes else list(SCOPES)
        with store_unavailable_as("AUTH-DEP-503", "key store"):
            async with self._pool.acquire() as conn, conn.transaction():
                # one creation at a time per user, so the limit holds under races
                await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", user_id)
                active = await conn.fetchval(
                    "SELECT count(*) FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL"
                    " AND (expires_at IS NULL OR expires_at > now())",
                    user_id,
                )
                if active >= MAX_ACTIVE_KEYS:
                    raise TooManyKeys()
                row = await conn.fetchrow(
                    "INSERT INTO api_keys (id, user_id, name, secret_hash, scopes, expires_at)"
                    f" VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}",
                    key_id,
                    user_id,
                    name,
                    _hash(secret),
                    wanted,
                    expires_at,
                )
        key = ApiKey(**row)
        return key, f"{key.prefix}_{secret}"

    async def list(self, user_id: str) -> list[ApiKey]:
        """The user's keys that still work, newest first."""
        with store_unavailable_as("AUTH-DEP-503", "key store"):
            rows = await self._pool.fetch(
                f"SELECT {_COLUMNS} FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL"
                " ORDER BY created_at DESC, id",
                user_id,
            )
        return [ApiKey(**row) for row in rows]

    async def revoke(self, user_id: str, key_id: str) -> bool:
        """Revoke one of the user's keys; False when there is no such key of theirs.
        Revoking twice is fine (and published again)."""
        with store_unavailable_as("AUTH-DEP-503", "key store"):
            found = await self._pool.fetchval(
                "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
                " WHERE id = $1 AND user_id = $2 RETURNING id",
                key_id,
                user_id,
            )
        if found is None:
            return False
        try:
            await self._redis.publish(keys.REVOKED_CREDENTIALS, orjson.dumps({"keyId": key_id}))
        except RedisError as exc:
            # The row is revoked: auth_service refuses it from now on. A gateway that
            # missed the message would trust its cached answer up to VALIDATION_TTL_S:
            # say so, so the caller retries (revoking again publishes again).
            raise UpstreamUnavailable(
                "key revoked, but gateways could not be told: retry", code="AUTH-DEP-503"
            ) from exc
        return True

    async def validate(self, token: str) -> KeyOwner:
        parsed = parse_key(token)
        if parsed is None:
            raise InvalidToken("malformed API key")
        key_id, secret = parsed
        with store_unavailable_as("AUTH-DEP-503", "key store"):
            row = await self._pool.fetchrow(
                "SELECT user_id, secret_hash, scopes, expires_at, revoked_at, last_used_at,"
                " now() AS now FROM api_keys WHERE id = $1",
                key_id,
            )
        # Compare even for an unknown id, so timing tells nothing about which ids exist.
        stored = row["secret_hash"] if row else b"\0" * 32
        if not hmac.compare_digest(bytes(stored), _hash(secret)) or row is None:
            raise InvalidToken("API key is invalid")
        now: datetime = row["now"]
        if row["revoked_at"] is not None:
            raise InvalidToken("API key has been revoked")
        expires_at: datetime | None = row["expires_at"]
        if expires_at is not None and expires_at <= now:
            raise InvalidToken("API key has expired")
        last_used: datetime | None = row["last_used_at"]
        if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
            await self._touch(key_id)
        trust_until = int(now.timestamp()) + VALIDATION_TTL_S
        if expires_at is not None:
            trust_until = min(trust_until, int(expires_at.timestamp()))
        return KeyOwner(key_id, row["user_id"], list(row["scopes"]), trust_until)

    async def _touch(self, key_id: str) -> None:
        try:
            await self._pool.execute(
                "UPDATE api_keys SET last_used_at = now() WHERE id = $1", key_id
            )
        except UNAVAILABLE:
            pass  # a missed lastUsedAt is not worth refusing the call
