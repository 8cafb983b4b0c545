"""Logout, revocation and JWKS through the real gateway, auth, ratelimit and backend."""

import asyncio
from contextlib import AbstractAsyncContextManager

import httpx
from ulid import ULID

from shared import keys
from tests.fixtures.pipeline import Services
from tests.integration.auth_helpers import public_gateway
from tests.utils.redis import redis_client

CACHE_TTL_S = 0.5


def _stack(services: Services, redis_url: str) -> AbstractAsyncContextManager[tuple[str, str]]:
    """(gateway URL, auth_service URL), with a short auth cache."""
    return public_gateway(
        services.database_url,
        redis_url,
        str(services.backend.base_url),
        auth_cache_ttl_s=CACHE_TTL_S,
    )


async def test_logged_out_tokens_stop_working(services: Services, redis_url: str) -> None:
    task_path = f"/v1/tasks/{ULID()}"
    async with (
        _stack(services, redis_url) as (gateway_url, auth_url),
        httpx.AsyncClient(base_url=gateway_url) as api,
        httpx.AsyncClient(base_url=auth_url) as auth,
    ):
        creds = {"email": "g@example.com", "password": "s3cret-pass"}
        first = (await api.post("/v1/auth/register", json=creds)).json()["access_token"]
        second = (await api.post("/v1/auth/login", json=creds)).json()["access_token"]

        async def status(token: str) -> int:
            answer = await api.get(task_path, headers={"Authorization": f"Bearer {token}"})
            return answer.status_code

        # authenticated: the backend answers (no such task)
        assert await status(first) == 404 and await status(second) == 404

        # logout through the gateway: refused at once
        bearer = {"Authorization": f"Bearer {first}"}
        assert (await api.post("/v1/auth/logout", headers=bearer)).status_code == 204
        refused = await api.get(task_path, headers=bearer)
        assert refused.status_code == 401 and refused.json()["errorCode"] == "GW-AUTH-401"
        assert refused.json()["message"] == "token has been revoked"
        assert (await api.post("/v1/auth/logout", headers=bearer)).status_code == 401
        assert (await api.post("/v1/auth/logout")).status_code == 401

        # logout elsewhere (another gateway instance): this gateway's validation cache
        # may accept the token until its entry expires, never longer
        logout = await auth.post("/v1/auth/logout", headers={"Authorization": f"Bearer {second}"})
        assert logout.status_code == 204
        await asyncio.sleep(CACHE_TTL_S + 0.2)
        assert await status(second) == 401


async def test_jwks_and_client_ip_pass_through_the_gateway(
    services: Services, redis_url: str
) -> None:
    async with (
        _stack(services, redis_url) as (gateway_url, auth_url),
        httpx.AsyncClient(
            base_url=gateway_url, transport=httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        ) as api,
        httpx.AsyncClient(base_url=auth_url) as auth,
    ):
        published = await api.get("/.well-known/jwks.json")
        assert published.status_code == 200
        assert published.json() == (await auth.get("/.well-known/jwks.json")).json()
        assert published.json()["keys"][0]["kty"] == "OKP"

        wrong = {"email": "nobody@example.com", "password": "not-the-one"}
        assert (await api.post("/v1/auth/login", json=wrong)).status_code == 401
    # auth_service counted the failure against the client's address, not the gateway's
    client = redis_client(redis_url)
    assert await client.exists(keys.ratelimit_bucket("login-fail", "ip:127.0.0.2"))
    assert not await client.exists(keys.ratelimit_bucket("login-fail", "ip:127.0.0.1"))
    await client.aclose()
