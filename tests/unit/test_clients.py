"""The shared internal-API clients against canned answers from a real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from shared.clients.auth import AuthClient, Identity, bearer_token
from shared.clients.ratelimit import Decision, RateLimitClient
from shared.errors import Unauthorized, UpstreamUnavailable
from shared.http import InternalClient
from tests.utils.servers import running


class Refused(Unauthorized):
    code = "T-AUTH-401"
    default_message = "refused"


Answer = Callable[[dict[str, Any]], Response]


@asynccontextmanager
async def _http(answer: Answer) -> AsyncIterator[InternalClient]:
    """A client of a server answering every POST with ``answer(json body)``."""
    app = FastAPI()

    @app.post("/{rest:path}")
    async def reply(request: Request) -> Response:
        return answer(await request.json())

    async with running(app) as url:
        client = InternalClient(url)
        try:
            yield client
        finally:
            await client.aclose()


@pytest.mark.parametrize("header", ["Bearer abc", "bearer  abc ", " BEARER abc"])
def test_bearer_token_accepts_the_scheme_in_any_case(header: str) -> None:
    assert bearer_token(header, rejected=Refused) == "abc"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer  ", "Basic abc", "abc"])
def test_bearer_token_refuses_anything_else(header: str | None) -> None:
    with pytest.raises(Refused, match="send Authorization: Bearer <token or API key>"):
        bearer_token(header, rejected=Refused)


async def test_validate_caches_and_maps_refusals() -> None:
    calls: list[str] = []

    def answer(body: dict[str, Any]) -> Response:
        token = body["token"]
        calls.append(token)
        if token == "good":
            return JSONResponse({"userId": "u1", "expiresAt": 4_000_000_000})
        if token == "down":
            return Response(status_code=500)
        return JSONResponse({"errorCode": "AUTH-TOKEN-401", "message": "expired"}, 401)

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

    def answer(batch: dict[str, Any]) -> Response:
        assert batch == {"checks": [{"endpoint": "e", "subject": "s", "peek": False}]}
        return JSONResponse({"decisions": [{**body, "nearLimit": False}]})

    async with _http(answer) as http:
        decision = await RateLimitClient(http, unavailable_code="T-DEP-503").take("e", "s")
    assert not decision.allowed and decision.retry_after_s == retry_s
    assert decision.quota_headers() == {"RateLimit-Limit": "5", "RateLimit-Remaining": "0"}


async def test_checks_that_arrive_together_go_in_one_request_each_with_its_answer() -> None:
    batches: list[list[str]] = []

    def answer(batch: dict[str, Any]) -> Response:
        subjects = [check["subject"] for check in batch["checks"]]
        batches.append(subjects)
        return JSONResponse(
            {
                "decisions": [
                    {"errorCode": "RL-RULE-404", "message": "no rule"}
                    if subject == "norule"
                    else {"allowed": True, "limit": 9, "remaining": int(subject), "retryAfterMs": 0}
                    for subject in subjects
                ]
            }
        )

    async with _http(answer) as http:
        limits = RateLimitClient(http, unavailable_code="T-DEP-503", max_batch=3)
        subjects = ["1", "2", "norule", "4", "5"]
        got = await asyncio.gather(*(limits.take("e", s) for s in subjects), return_exceptions=True)
    # the first goes at once; a full batch of three too; the last when a request returns
    assert batches == [["1"], ["2", "norule", "4"], ["5"]]
    assert [d.remaining for d in got if isinstance(d, Decision)] == [1, 2, 4, 5]
    assert isinstance(got[2], UpstreamUnavailable) and got[2].error_code == "T-DEP-503"


async def test_take_fails_closed() -> None:
    async with _http(lambda _: Response(status_code=503)) as http:
        with pytest.raises(UpstreamUnavailable) as down:
            await RateLimitClient(http, unavailable_code="T-DEP-503").take("e", "s")
    assert down.value.error_code == "T-DEP-503"
    # nobody listening at all: refused too, as the platform's own dependency error
    gone = InternalClient("http://127.0.0.1:9")
    try:
        with pytest.raises(UpstreamUnavailable) as unreachable:
            await RateLimitClient(gone, unavailable_code="T-DEP-503").take("e", "s")
    finally:
        await gone.aclose()
    assert unreachable.value.error_code == "SYS-DEP-503"
    assert "ratelimit_service is unreachable" in unreachable.value.message
