"""Token validation through auth_service."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from shared.errors import Unauthorized, UpstreamUnavailable
from shared.http import call_upstream

VALIDATE_PATH = "/internal/validate"


class SocketUnauthorized(Unauthorized):
    code = "WS-AUTH-401"
    default_message = "invalid or expired token"


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    expires_at: int | None


def bearer_token(header: str) -> str:
    """The token of an ``Authorization: Bearer <jwt>`` header."""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise SocketUnauthorized("Authorization header must be 'Bearer <token>'")
    return token


class AuthClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def validate(self, token: str) -> Identity:
        """Raise SocketUnauthorized for a bad token, UpstreamUnavailable if auth is down."""
        if not token or len(token) > 4096:
            raise SocketUnauthorized()
        resp = await call_upstream(
            self._http, "POST", VALIDATE_PATH, service="auth_service", json={"token": token}
        )
        if resp.status_code == 401:
            raise SocketUnauthorized(_message(resp))
        if resp.status_code != 200:
            raise UpstreamUnavailable(
                f"auth_service answered {resp.status_code}", code="WS-DEP-503"
            )
        try:
            body = resp.json()
            user_id = body["userId"]
            expires_at = body.get("expiresAt")
        except (ValueError, KeyError, TypeError) as exc:
            raise UpstreamUnavailable("auth_service gave an unreadable answer") from exc
        if not isinstance(user_id, str) or not user_id:
            raise UpstreamUnavailable("auth_service gave no userId")
        return Identity(user_id, expires_at if isinstance(expires_at, int) else None)


def _message(resp: httpx.Response) -> str:
    try:
        message = resp.json().get("message")
    except (ValueError, AttributeError):
        message = None
    return message if isinstance(message, str) and message else SocketUnauthorized.default_message
