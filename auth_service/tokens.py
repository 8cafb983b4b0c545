"""JWT issuing and validation: EdDSA (Ed25519) only, key chosen by ``kid``.

The algorithm is never negotiated: a token whose header says anything but EdDSA, or
names a key we do not hold, is refused before any signature check, so neither ``none``
nor HS256-signed-with-the-public-key (algorithm confusion) can pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
from ulid import ULID

from shared.clients.auth import MAX_TOKEN_CHARS
from shared.errors import Unauthorized

from .config import AuthSettings
from .keyring import KeyRing

ALGORITHM = "EdDSA"
LEEWAY_S = 5


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


ROLES = frozenset({"user", "admin"})


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    expires_at: int
    jti: str
    role: str = "user"


class InvalidToken(Unauthorized, code="AUTH-TOKEN-401", message="token is invalid or expired"): ...


class TokenService:
    def __init__(self, settings: AuthSettings, keys: KeyRing | None = None) -> None:
        self.keys = keys or KeyRing.from_settings(settings)
        self._ttl = settings.jwt_ttl_s
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience

    def issue(self, user_id: str, role: str = "user") -> IssuedToken:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": str(ULID()),
        }
        token = jwt.encode(
            claims, self.keys.private, algorithm=ALGORITHM, headers={"kid": self.keys.active_kid}
        )
        return IssuedToken(token, self._ttl)

    def validate(self, token: str) -> TokenClaims:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken()
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self.keys.public.get(kid) if isinstance(kid, str) else None
            if key is None or header.get("alg") != ALGORITHM:
                raise InvalidToken()
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]},
                leeway=LEEWAY_S,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token has expired") from exc
        except (jwt.PyJWTError, TypeError) as exc:
            raise InvalidToken() from exc
        sub, jti = claims.get("sub"), claims.get("jti")
        if not isinstance(sub, str) or not sub or not isinstance(jti, str) or not jti:
            raise InvalidToken()
        # Tokens issued before roles existed carry none: plain users.
        role = claims.get("role", "user")
        if role not in ROLES:
            raise InvalidToken()
        return TokenClaims(user_id=sub, expires_at=int(claims["exp"]), jti=jti, role=role)
