"""Every internal endpoint of every service refuses unsigned, forged, stale and replayed
calls; signed ones pass; key rotation works. Real apps over real sockets."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from ai_service.app import create_app as create_ai
from ai_service.config import AiSettings
from auth_service.app import create_app as create_auth
from backend_service.app import create_app as create_backend
from backend_service.config import BackendSettings
from ratelimit_service.app import create_app as create_ratelimit
from ratelimit_service.config import RateLimitSettings
from shared import keys
from shared.http import USER_ID_HEADER
from shared.service_auth import (
    NONCE_HEADER,
    SIGNATURE_HEADER,
    InternalSigner,
    Keyring,
    sign_headers,
)
from tests.fixtures.pipeline import EXAMPLE_JOB
from tests.integration.auth_helpers import auth_settings
from tests.utils.redis import redis_client
from tests.utils.servers import running
from tests.utils.settings import INTERNAL_KEYRING, INTERNAL_TOKEN, SIGNED, common


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str
    body: dict[str, Any] | None
    ok: int  # what a signed call gets

    def __str__(self) -> str:
        return f"{self.service} {self.method} {self.path}"


ENDPOINTS = [
    Endpoint("auth", "POST", "/internal/validate", {"token": "not-a-jwt"}, 401),
    Endpoint("ratelimit", "POST", "/internal/check", {"endpoint": "verify", "subject": "u"}, 200),
    Endpoint("backend", "POST", "/internal/verify", {"text": "the moon is made of rock"}, 202),
    Endpoint("backend", "GET", "/internal/tasks/01J0000000000000000000000", None, 404),
    Endpoint("ai", "POST", "/internal/jobs", EXAMPLE_JOB, 202),
    # the batch routes (shared/coalesce.py), last: tests below pick endpoints by index
    Endpoint("ai", "POST", "/internal/jobs/batch", {"jobs": [{"job": EXAMPLE_JOB}]}, 202),
    Endpoint(
        "ratelimit",
        "POST",
        "/internal/checks",
        {"checks": [{"endpoint": "verify", "subject": "u"}]},
        200,
    ),
]


@pytest.fixture
async def urls(redis_url: str, database_url: str) -> AsyncIterator[dict[str, str]]:
    base = common(redis_url, database_url)
    async with AsyncExitStack() as stack:
        rl = await stack.enter_async_context(
            running(create_ratelimit(RateLimitSettings(**common(redis_url))))
        )
        auth = await stack.enter_async_context(
            running(create_auth(auth_settings(database_url, redis_url, rl)))
        )
        ai = await stack.enter_async_context(running(create_ai(AiSettings(**base))))
        backend = await stack.enter_async_context(
            running(
                create_backend(
                    BackendSettings(**base, ai_url=ai, receiver_url="http://127.0.0.1:9")
                )
            )
        )
        yield {"auth": auth, "ratelimit": rl, "backend": backend, "ai": ai}


def _body(ep: Endpoint) -> bytes:
    return b"" if ep.body is None else json.dumps(ep.body).encode()


def _signed(ep: Endpoint, ring: Keyring = INTERNAL_KEYRING, **kw: Any) -> dict[str, str]:
    return {
        "content-type": "application/json",
        USER_ID_HEADER: "u1",
        **sign_headers(ring, ep.method, ep.path, _body(ep), **kw),
    }


async def _send(url: str, ep: Endpoint, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.request(ep.method, ep.path, content=_body(ep), headers=headers)


def _refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["errorCode"] == "SYS-AUTH-403"
    assert reason in body["message"], body["message"]


@pytest.mark.parametrize("ep", ENDPOINTS, ids=str)
async def test_each_internal_endpoint_checks_signatures(urls: dict[str, str], ep: Endpoint) -> None:
    url = urls[ep.service]
    plain = {"content-type": "application/json", USER_ID_HEADER: "u1"}
    _refused(await _send(url, ep, plain), "missing signature")
    # the old static credential alone no longer opens anything
    _refused(await _send(url, ep, {**plain, "x-internal-token": INTERNAL_TOKEN}), "missing")

    forged = _signed(ep, Keyring.single("someone-elses-key-0123456789abcdef"))
    _refused(await _send(url, ep, forged), "bad signature")
    _refused(await _send(url, ep, _signed(ep, Keyring.single("x" * 32, "k9"))), "unknown key")
    stale = _signed(ep, timestamp=int(time.time()) - 120)
    _refused(await _send(url, ep, stale), "stale")
    # a signature for another path or body does not transfer
    moved = {**_signed(ep), NONCE_HEADER: "other-nonce"}
    _refused(await _send(url, ep, moved), "bad signature")

    headers = _signed(ep)
    first = await _send(url, ep, headers)
    assert first.status_code == ep.ok, first.text
    _refused(await _send(url, ep, headers), "replayed")

    # the signer used by the services themselves
    async with httpx.AsyncClient(base_url=url, auth=SIGNED) as http:
        again = await http.request(
            ep.method, ep.path, content=_body(ep), headers={USER_ID_HEADER: "u1"}
        )
        assert again.status_code != 403, again.text


async def test_redis_window_is_shared_and_lives_as_long_as_the_window(redis_url: str) -> None:
    # SATYAMARK_INTERNAL_REPLAY_STORE=redis: a replay is refused by every instance
    ep = ENDPOINTS[1]
    settings = RateLimitSettings(**common(redis_url), internal_replay_store="redis")
    headers = _signed(ep)
    async with (
        running(create_ratelimit(settings)) as first,
        running(create_ratelimit(settings)) as second,
    ):
        assert (await _send(first, ep, headers)).status_code == 200
        _refused(await _send(second, ep, headers), "replayed")
    client = redis_client(redis_url)
    try:
        ttl = await client.ttl(keys.internal_nonce("default", headers[NONCE_HEADER]))
    finally:
        await client.aclose()
    assert 55 <= ttl <= 62


async def test_memory_window_keeps_no_nonce_in_redis(urls: dict[str, str], redis_url: str) -> None:
    ep = ENDPOINTS[1]
    headers = _signed(ep)
    assert (await _send(urls["ratelimit"], ep, headers)).status_code == 200
    _refused(await _send(urls["ratelimit"], ep, headers), "replayed")
    client = redis_client(redis_url)
    try:
        assert not await client.exists(keys.internal_nonce("default", headers[NONCE_HEADER]))
    finally:
        await client.aclose()


async def test_rotation_old_key_until_removed(redis_url: str) -> None:
    k1 = "k1-secret-0123456789abcdef0123456789"
    k0 = "k0-secret-0123456789abcdef0123456789"
    old = Keyring.single(k0, "k0")
    new = Keyring.single(k1, "k1")
    ep = ENDPOINTS[1]

    def settings(**keys: str) -> RateLimitSettings:
        return RateLimitSettings(
            **common(redis_url),
            internal_keys={k: SecretStr(v) for k, v in keys.items()},
            internal_active_kid="k1",
        )

    # during the rotation both keys are accepted
    async with running(create_ratelimit(settings(k1=k1, k0=k0))) as url:
        for ring in (old, new):
            answer = await _send(url, ep, _signed(ep, ring))
            assert answer.status_code == 200, answer.text
        # the token fallback key is not configured any more
        _refused(await _send(url, ep, _signed(ep)), "unknown key id")
    # once k0 is removed, a caller still signing with it is refused
    async with running(create_ratelimit(settings(k1=k1))) as url:
        _refused(await _send(url, ep, _signed(ep, old)), "unknown key id")
        assert (await _send(url, ep, _signed(ep, new))).status_code == 200


async def test_signature_covers_the_query(urls: dict[str, str]) -> None:
    ep = ENDPOINTS[3]
    headers = sign_headers(INTERNAL_KEYRING, "GET", ep.path, b"")
    async with httpx.AsyncClient(base_url=urls["backend"]) as http:
        answer = await http.get(ep.path + "?x=1", headers={**headers, USER_ID_HEADER: "u1"})
    _refused(answer, "bad signature")
    async with httpx.AsyncClient(base_url=urls["backend"], auth=SIGNED) as http:
        answer = await http.get(ep.path + "?x=1", headers={USER_ID_HEADER: "u1"})
    assert answer.status_code == 404


async def test_a_signature_cannot_be_reused_by_swapping_the_body(urls: dict[str, str]) -> None:
    ep = ENDPOINTS[1]
    headers = _signed(ep)
    body = json.dumps({"endpoint": "verify", "subject": "someone-else"}).encode()
    async with httpx.AsyncClient(base_url=urls["ratelimit"]) as http:
        answer = await http.post(ep.path, content=body, headers=headers)
    _refused(answer, "bad signature")
    assert headers[SIGNATURE_HEADER].startswith("v1=")


async def test_signer_survives_a_closed_connection_retry() -> None:
    # each send is signed afresh (new nonce), so a caller's own retry is never a replay
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers[NONCE_HEADER])
        return httpx.Response(200)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(handler), auth=InternalSigner(INTERNAL_KEYRING)
    ) as http:
        for _ in range(3):
            await http.post("http://svc/internal/check", json={})
    assert len(set(seen)) == 3
