"""Failed-login throttling through ratelimit_service.

Each failure spends one token from two buckets of the "login-fail" rule: the account's
(``acct:<e-mail, lower-cased>``) and the client IP's (``ip:<address>``). Before a password
is checked both buckets are only peeked at, so successful logins cost nothing and an
emptied bucket refuses further guesses (429 + Retry-After) without verifying anything.
"""

from __future__ import annotations

import asyncio

from shared.clients.ratelimit import RateLimitClient
from shared.errors import RateLimited


class TooManyFailures(
    RateLimited, code="AUTH-RATE-429", message="too many failed logins, try again later"
): ...


def subjects(email: str, client_ip: str) -> list[str]:
    return [f"acct:{email.strip().lower()}", f"ip:{client_ip}"]


class LoginThrottle:
    def __init__(self, ratelimit: RateLimitClient, endpoint: str) -> None:
        self._ratelimit = ratelimit
        self._endpoint = endpoint

    async def ensure_allowed(self, subject_list: list[str]) -> None:
        """Raise ``TooManyFailures`` when any bucket has no failure left."""
        decisions = await asyncio.gather(
            *(self._ratelimit.take(self._endpoint, s, peek=True) for s in subject_list)
        )
        refused = [d for d in decisions if not d.allowed]
        if refused:
            retry_s = max(d.retry_after_s for d in refused)
            raise TooManyFailures(
                f"too many failed logins, try again in {retry_s}s",
                headers={"Retry-After": str(retry_s)},
            )

    async def record_failure(self, subject_list: list[str]) -> None:
        await asyncio.gather(*(self._ratelimit.take(self._endpoint, s) for s in subject_list))
