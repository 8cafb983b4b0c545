"""JWT issuing and validation (pyjwt, HS256 only: no ``alg`` negotiation)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from ulid import ULID

from shared.errors import Unauthorized

from .config import AuthSettings

ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    expires_at: int


class InvalidToken(Unauthorized):
    code = "AUTH-TOKEN-401"
    default_message = "token is invalid or expired"


class TokenService:
    def __init__(self, settings: AuthSettings) -> None:
        self._secret = settings.jwt_secret.get_secret_value()
        self._ttl = settings.jwt_ttl_s
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience

    def issue(self, user_id: str) -> IssuedToken:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "iat": now,
            "nbf": now,
            "exp": now + self._ttl,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": str(ULID()),
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), self._ttl)

    def validate(self, token: str) -> TokenClaims:
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken()
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise InvalidToken()
        return TokenClaims(user_id=sub, expires_at=int(claims["exp"]))
