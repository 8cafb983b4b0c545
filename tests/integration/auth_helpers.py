"""auth_service (with the ratelimit_service it throttles logins through) in-process, and
the calls the auth tests share."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from auth_service.app import create_app as create_auth
from auth_service.config import AuthSettings
from auth_service.keyring import new_private_pem
from gateway.app import create_app as create_gateway
from gateway.config import GatewaySettings
from ratelimit_service.app import create_app as create_ratelimit
from ratelimit_service.config import BucketRule, RateLimitSettings
from tests.utils.servers import running
from tests.utils.settings import common

KEY_A = ("key-a", new_private_pem())
KEY_B = ("key-b", new_private_pem())
PASSWORD = "s3cret-pass"


def auth_settings(
    database_url: str,
    redis_url: str,
    ratelimit_url: str,
    keys: tuple[tuple[str, str], ...] = (KEY_A,),
    active: str = "",
    **extra: Any,
) -> AuthSettings:
    return AuthSettings(
        **common(redis_url, database_url),
        ratelimit_url=ratelimit_url,
        jwt_keys=SecretStr(json.dumps(dict(keys))),
        jwt_active_kid=active,
        **extra,
    )


@asynccontextmanager
async def ratelimit(redis_url: str, **rules: BucketRule) -> AsyncIterator[str]:
    settings = RateLimitSettings(**common(redis_url), rules=rules)
    async with running(create_ratelimit(settings)) as url:
        yield url


@asynccontextmanager
async def auth_and_ratelimit(
    database_url: str, redis_url: str, login_fail: BucketRule | None = None, **extra: Any
) -> AsyncIterator[str]:
    """Yield auth_service's URL; "login-fail" is generous unless given."""
    rule = login_fail or BucketRule(capacity=1000, refill_per_s=100)
    async with ratelimit(redis_url, **{"login-fail": rule}) as rl_url:
        settings = auth_settings(database_url, redis_url, rl_url, **extra)
        async with running(create_auth(settings)) as url:
            yield url


@asynccontextmanager
async def auth_client(
    database_url: str, redis_url: str, **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of auth_service, as :func:`auth_and_ratelimit` with ``options`` runs it."""
    async with (
        auth_and_ratelimit(database_url, redis_url, **options) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        yield http


async def register(http: httpx.AsyncClient, email: str) -> dict[str, Any]:
    """Register ``email`` with :data:`PASSWORD`; the answer's body (a token pair)."""
    answer = await http.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@asynccontextmanager
async def auth_gateway(
    database_url: str, redis_url: str, soft_fraction: float = 0.2, **rules: BucketRule
) -> AsyncIterator[str]:
    """Yield the URL of a gateway in front of auth_service and ratelimit_service (no
    backend: only the auth routes answer). ``rules`` override the rate-limit defaults;
    "auth" and "login-fail" are generous unless given."""
    generous = BucketRule(capacity=1000, refill_per_s=100)
    rl = RateLimitSettings(
        **common(redis_url),
        rules={"auth": generous, "login-fail": generous, **rules},
        soft_fraction=soft_fraction,
    )
    async with running(create_ratelimit(rl)) as rl_url:
        settings = auth_settings(database_url, redis_url, rl_url)
        async with running(create_auth(settings)) as auth_url:
            gateway = GatewaySettings(
                **common(),
                auth_url=auth_url,
                ratelimit_url=rl_url,
                backend_url="http://127.0.0.1:9",
            )
            async with running(create_gateway(gateway)) as url:
                yield url


@asynccontextmanager
async def public_gateway(
    database_url: str, redis_url: str, backend_url: str, **gateway: Any
) -> AsyncIterator[tuple[str, str]]:
    """(gateway URL, auth_service URL): the real gateway, with auth_service and
    ratelimit_service, in front of the backend at ``backend_url``. ``gateway`` overrides
    GatewaySettings fields."""
    async with ratelimit(redis_url) as rl_url:
        auth = create_auth(auth_settings(database_url, redis_url, rl_url))
        async with running(auth) as auth_url:
            settings = GatewaySettings(
                **common(),
                auth_url=auth_url,
                ratelimit_url=rl_url,
                backend_url=backend_url,
                **gateway,
            )
            async with running(create_gateway(settings)) as gateway_url:
                yield gateway_url, auth_url
