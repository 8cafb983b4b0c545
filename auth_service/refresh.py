"""Refresh tokens in PostgreSQL (migration 0006), rotated on every use.

A refresh token is 32 random bytes (URL-safe base64); only its SHA-256 is stored. Each
use spends it in one UPDATE and issues its successor in the same statement, so of two
concurrent uses exactly one wins. A spent token presented again means a copy of it is
in someone else's hands: the whole family (every token descended from the same login)
is revoked, the legitimate client's newest token included, and the user logs in again.
Each token lives ``AUTH_REFRESH_TTL_S`` from its own issue, so a session lasts as long
as it is refreshed at least that often.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass

import asyncpg
from ulid import ULID

from shared.errors import Unauthorized, store_unavailable_as
from shared.schemas import MAX_REFRESH_TOKEN_CHARS


class InvalidRefresh(
    Unauthorized, code="AUTH-REFRESH-401", message="refresh token is invalid, expired or revoked"
): ...


_REUSED = "refresh token was already used: every token of this session is revoked, log in again"


class RefreshReused(Unauthorized, code="AUTH-REUSE-401", message=_REUSED): ...


@dataclass(frozen=True, slots=True)
class IssuedRefresh:
    refresh_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class Rotated:
    user_id: str
    refresh: IssuedRefresh


def token_digest(token: str) -> str:
    # surrogatepass: any str hashes (a lone surrogate must not turn into a 500)
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _store_errors() -> AbstractContextManager[None]:
    return store_unavailable_as("AUTH-DEP-503", "refresh token store")


_NEW_FAMILY = """
WITH family AS (
    INSERT INTO refresh_families (id, user_id, expires_at)
    VALUES ($1, $2, now() + make_interval(secs => $4))
    RETURNING id, expires_at
)
INSERT INTO refresh_tokens (token_hash, family_id, expires_at)
SELECT $3, id, expires_at FROM family
"""

# Spend the token and issue its successor in one statement. A concurrent second use
# waits on the row lock, re-checks ``used_at IS NULL`` on the committed row and matches
# nothing.
_ROTATE = """
WITH spent AS (
    UPDATE refresh_tokens AS t SET used_at = now()
    FROM refresh_families AS f
    WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now()
      AND f.id = t.family_id AND f.revoked_at IS NULL
    RETURNING t.family_id, f.user_id
), successor AS (
    INSERT INTO refresh_tokens (token_hash, family_id, expires_at)
    SELECT $2, family_id, now() + make_interval(secs => $3) FROM spent
), extended AS (
    UPDATE refresh_families SET expires_at = now() + make_interval(secs => $3)
    WHERE id IN (SELECT family_id FROM spent)
)
SELECT family_id, user_id FROM spent
"""

# Called only when _ROTATE matched nothing: revoke the family if the token was spent.
_REVOKE_IF_SPENT = """
UPDATE refresh_families AS f SET revoked_at = coalesce(f.revoked_at, now())
FROM refresh_tokens AS t
WHERE t.token_hash = $1 AND t.used_at IS NOT NULL AND f.id = t.family_id
RETURNING f.id
"""

_REVOKE_OWN_FAMILY = """
UPDATE refresh_families AS f SET revoked_at = coalesce(f.revoked_at, now())
FROM refresh_tokens AS t
WHERE t.token_hash = $1 AND f.id = t.family_id AND f.user_id = $2
RETURNING f.id
"""

# Every token of a family expires no later than the family itself.
_PURGE_FAMILIES = """
DELETE FROM refresh_families WHERE id IN (
    SELECT id FROM refresh_families WHERE expires_at < now() LIMIT $1
)
"""
_PURGE_TOKENS = """
DELETE FROM refresh_tokens WHERE token_hash IN (
    SELECT token_hash FROM refresh_tokens WHERE expires_at < now() LIMIT $1
)
"""


class RefreshTokens:
    def __init__(self, pool: asyncpg.Pool, ttl_s: int) -> None:
        self._pool = pool
        self._ttl_s = ttl_s

    def _new(self) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, token_digest(token)

    async def issue(self, user_id: str) -> IssuedRefresh:
        """The first token of a new family (at login or registration)."""
        token, digest = self._new()
        with _store_errors():
            await self._pool.execute(_NEW_FAMILY, str(ULID()), user_id, digest, float(self._ttl_s))
        return IssuedRefresh(token, self._ttl_s)

    async def rotate(self, token: str) -> Rotated:
        """Spend ``token`` for its successor; raise ``RefreshReused`` (after revoking the
        family) when it was spent before, ``InvalidRefresh`` when it cannot be used."""
        if not token or len(token) > MAX_REFRESH_TOKEN_CHARS:
            raise InvalidRefresh()
        digest = token_digest(token)
        successor, successor_digest = self._new()
        with _store_errors():
            row = await self._pool.fetchrow(_ROTATE, digest, successor_digest, float(self._ttl_s))
            if row is not None:
                return Rotated(row["user_id"], IssuedRefresh(successor, self._ttl_s))
            if await self._pool.fetchval(_REVOKE_IF_SPENT, digest) is not None:
                raise RefreshReused()
        raise InvalidRefresh()

    async def revoke_family(self, token: str, user_id: str) -> bool:
        """Revoke the family of ``token`` if it is ``user_id``'s; say whether it was."""
        if not token or len(token) > MAX_REFRESH_TOKEN_CHARS:
            return False
        with _store_errors():
            found = await self._pool.fetchval(_REVOKE_OWN_FAMILY, token_digest(token), user_id)
        return found is not None

    async def purge_expired(self, batch: int = 10_000) -> int:
        """Delete expired families and tokens (at most ``batch`` of each); return how many."""
        tokens = await self._pool.execute(_PURGE_TOKENS, batch)
        families = await self._pool.execute(_PURGE_FAMILIES, batch)
        return int(tokens.split()[-1]) + int(families.split()[-1])
