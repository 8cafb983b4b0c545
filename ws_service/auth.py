"""How a socket's authentication fails (validation itself: shared.clients.auth)."""

from __future__ import annotations

from shared.errors import Unauthorized


class SocketUnauthorized(Unauthorized, code="WS-AUTH-401", message="invalid or expired token"): ...


# what a malformed Authorization header is told (the gateway's wording differs)
BEARER_HINT = "Authorization header must be 'Bearer <token>'"
