from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.schemas import EMAIL_PATTERN, MAX_REFRESH_TOKEN_CHARS, Scope, Strict


class Credentials(Strict):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str = Field(min_length=8, max_length=128)


class TokenPublic(Strict):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    userId: str


class RefreshRequest(Strict):
    refresh_token: str = Field(min_length=1, max_length=MAX_REFRESH_TOKEN_CHARS)


class LogoutRequest(Strict):
    refresh_token: str | None = Field(
        default=None, min_length=1, max_length=MAX_REFRESH_TOKEN_CHARS
    )


class ValidateRequest(Strict):
    token: str = Field(max_length=8192)


class ValidateResponse(Strict):
    userId: str
    expiresAt: int
    role: Literal["user", "admin"] = "user"
    # An API key's id and scopes; absent for a login token (it may do everything).
    keyId: str | None = None
    scopes: list[Scope] | None = None
