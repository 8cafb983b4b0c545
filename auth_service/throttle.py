"""Failed-login throttling through ratelimit_service.

Each failure spends one token from two buckets of the "login-fail" rule: the account's
(``acct:<e-mail, lower-cased>``) and the client IP's (``ip:<address>``). Before a password
is checked both buckets are only peeked at, so successful logins cost nothing and an
emptied bucket refuses further guesses (429 + Retry-After) without verifying anything.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from shared.errors import RateLimited, UpstreamUnavailable
from shared.http import call_upstream


class TooManyFailures(RateLimited):
    code = "AUTH-RATE-429"
    default_message = "too many failed logins, try again later"


def subjects(email: str, client_ip: str) -> list[str]:
    return [f"acct:{email.strip().lower()}", f"ip:{client_ip}"]


class LoginThrottle:
    def __init__(self, client: httpx.AsyncClient, endpoint: str) -> None:
        self._client = client
        self._endpoint = endpoint

    async def _check(self, subject: str, *, peek: bool) -> dict[str, Any]:
        response = await call_upstream(
            self._client,
            "POST",
            "/internal/check",
            service="ratelimit_service",
            json={"endpoint": self._endpoint, "subject": subject, "peek": peek},
        )
        if response.status_code != 200:
            # Fail closed: without a decision no password is tried.
            raise UpstreamUnavailable("rate limiting unavailable", code="AUTH-DEP-503")
        body: dict[str, Any] = response.json()
        return body

    async def ensure_allowed(self, subject_list: list[str]) -> None:
        """Raise ``TooManyFailures`` when any bucket has no failure left."""
        answers = await asyncio.gather(*(self._check(s, peek=True) for s in subject_list))
        refused = [a for a in answers if not a["allowed"]]
        if refused:
            retry_ms = max(int(a["retryAfterMs"]) for a in refused)
            retry_s = max(1, -(-retry_ms // 1000))
            raise TooManyFailures(
                f"too many failed logins, try again in {retry_s}s",
                headers={"Retry-After": str(retry_s)},
            )

    async def record_failure(self, subject_list: list[str]) -> None:
        await asyncio.gather(*(self._check(s, peek=False) for s in subject_list))
