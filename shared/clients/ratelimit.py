"""ratelimit_service's internal API: spend (or peek at) one token of a bucket.

The checks that arrive while one request is out go together in the next
(``POST /internal/checks``, ``shared/coalesce.py``): under load a check costs the
service a Lua call in a pipeline, not a request of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.coalesce import Coalescer
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

    def __init__(self, http: InternalClient, *, unavailable_code: str, max_batch: int = 64) -> None:
        self._http = http
        self._unavailable_code = unavailable_code
        self._checks: Coalescer[dict[str, Any], Decision] = Coalescer(
            self._send, max_batch=max_batch, name="ratelimit-checks", timed_as=http.timed_as
        )

    async def take(self, endpoint: str, subject: str, *, peek: bool = False) -> Decision:
        """Spend one token of ``subject``'s bucket for ``endpoint`` (``peek``: only look)."""
        return await self._checks.call({"endpoint": endpoint, "subject": subject, "peek": peek})

    async def _send(self, checks: list[dict[str, Any]]) -> Sequence[Decision | Exception]:
        response = await call_upstream(
            self._http,
            "POST",
            "/internal/checks",
            service="ratelimit_service",
            json={"checks": checks},
        )
        if response.status_code != 200:
            raise self._unavailable()
        return [
            self._unavailable() if "errorCode" in body else _decision(body)
            for body in response.json()["decisions"]
        ]

    def _unavailable(self) -> UpstreamUnavailable:
        return UpstreamUnavailable("rate limiting unavailable", code=self._unavailable_code)


def _decision(body: dict[str, Any]) -> Decision:
    allowed = bool(body["allowed"])
    return Decision(
        allowed=allowed,
        limit=int(body["limit"]),
        remaining=int(body["remaining"]),
        retry_after_s=0 if allowed else max(1, -(-int(body["retryAfterMs"]) // 1000)),
        near_limit=bool(body.get("nearLimit", False)),
    )
