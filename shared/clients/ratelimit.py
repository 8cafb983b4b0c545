"""ratelimit_service's internal API: spend (or peek at) one token of a bucket."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import UpstreamUnavailable
from shared.http import call_upstream

from ..http import InternalClient


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    # whole seconds until a retry can succeed (at least 1 when refused, 0 when allowed)
    retry_after_s: int
    # allowed, but under the rule's soft limit: the client should slow down
    near_limit: bool = False

    def quota_headers(self) -> dict[str, str]:
        """The ``RateLimit-*`` headers a client is told about its bucket."""
        headers = {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining)}
        if self.near_limit:
            headers["RateLimit-Warning"] = f"approaching limit; remaining={self.remaining}"
        return headers


class RateLimitClient:
    """Failures raise ``UpstreamUnavailable`` with ``unavailable_code``: callers fail
    closed, since without a decision nothing may go ahead."""

    def __init__(self, http: InternalClient, *, unavailable_code: str) -> None:
        self._http = http
        self._unavailable_code = unavailable_code

    async def take(self, endpoint: str, subject: str, *, peek: bool = False) -> Decision:
        """Spend one token of ``subject``'s bucket for ``endpoint`` (``peek``: only look)."""
        response = await call_upstream(
            self._http,
            "POST",
            "/internal/check",
            service="ratelimit_service",
            json={"endpoint": endpoint, "subject": subject, "peek": peek},
        )
        if response.status_code != 200:
            raise UpstreamUnavailable("rate limiting unavailable", code=self._unavailable_code)
        body = response.json()
        allowed = bool(body["allowed"])
        return Decision(
            allowed=allowed,
            limit=int(body["limit"]),
            remaining=int(body["remaining"]),
            retry_after_s=0 if allowed else max(1, -(-int(body["retryAfterMs"]) // 1000)),
            near_limit=bool(body.get("nearLimit", False)),
        )
