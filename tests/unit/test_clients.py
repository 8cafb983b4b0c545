"""The shared internal-API clients against canned answers (no services running)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from shared.clients.auth import AuthClient, Identity, bearer_token
from shared.clients.ratelimit import RateLimitClient
from shared.errors import Unauthorized, UpstreamUnavailable


class Refused(Unauthorized):
    code = "T-AUTH-401"
    default_message = "refused"


def _http(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url="http://svc", transport=httpx.MockTransport(answer))


@pytest.mark.parametrize("header", ["Bearer abc", "bearer  abc ", " BEARER abc"])
def test_bearer_token_accepts_the_scheme_in_any_case(header: str) -> None:
    assert bearer_token(header, rejected=Refused) == "abc"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer  ", "Basic abc", "abc"])
def test_bearer_token_refuses_anything_else(header: str | None) -> None:
    with pytest.raises(Refused, match="send Authorization: Bearer <token or API key>"):
        bearer_token(header, rejected=Refused)


async def test_validate_caches_and_maps_refusals() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        token = httpx.Response(200, content=request.content).json()["token"]
        calls.append(token)
        if token == "good":
            return httpx.Response(200, json={"userId": "u1", "expiresAt": 4_000_000_000})
        if token == "down":
            return httpx.Response(500)
        return httpx.Response(401, json={"errorCode": "AUTH-TOKEN-401", "message": "expired"})

    async with _http(answer) as http:
        auth = AuthClient(http, rejected=Refused, unavailable_code="T-DEP-503", cache_ttl_s=30)
        assert await auth.validate("good") == Identity("u1", 4_000_000_000)
        await auth.validate("good")
        assert calls == ["good"]
        auth.forget("good")
        await auth.validate("good")
        assert calls == ["good", "good"]
        with pytest.raises(Refused, match="expired"):
            await auth.validate("bad")
        with pytest.raises(Refused, match="refused"):
            await auth.validate("x" * 4097)
        with pytest.raises(UpstreamUnavailable) as down:
            await auth.validate("down")
        assert down.value.error_code == "T-DEP-503"


@pytest.mark.parametrize(("retry_ms", "retry_s"), [(0, 1), (1, 1), (1000, 1), (1001, 2)])
async def test_take_rounds_retry_after_up_to_whole_seconds(retry_ms: int, retry_s: int) -> None:
    body = {"allowed": False, "limit": 5, "remaining": 0, "retryAfterMs": retry_ms}

    async with _http(lambda _: httpx.Response(200, json={**body, "nearLimit": False})) as http:
        decision = await RateLimitClient(http, unavailable_code="T-DEP-503").take("e", "s")
    assert not decision.allowed and decision.retry_after_s == retry_s
    assert decision.quota_headers() == {"RateLimit-Limit": "5", "RateLimit-Remaining": "0"}


async def test_take_fails_closed() -> None:
    async with _http(lambda _: httpx.Response(503)) as http:
        with pytest.raises(UpstreamUnavailable) as down:
            await RateLimitClient(http, unavailable_code="T-DEP-503").take("e", "s")
    assert down.value.error_code == "T-DEP-503"
