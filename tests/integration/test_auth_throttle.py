"""Failed logins throttled per account and per client IP through a real ratelimit_service."""

import statistics
import time

import httpx

from auth_service.app import create_app
from ratelimit_service.config import BucketRule
from shared import keys
from tests.integration.auth_helpers import PASSWORD, auth_client, auth_settings, register
from tests.utils.redis import redis_client
from tests.utils.servers import running
from tests.utils.settings import SIGNED

SLOW = BucketRule(capacity=3, refill_per_s=0.01)


def _from(ip: str) -> dict[str, str]:
    return {"x-satyamark-client-ip": ip}


async def _login(http: httpx.AsyncClient, email: str, password: str, ip: str) -> httpx.Response:
    """A login relayed by the gateway: signed, with the client's address."""
    return await http.post(
        "/v1/auth/login",
        json={"email": email, "password": password},
        headers=_from(ip),
        auth=SIGNED,
    )


async def test_failures_empty_the_account_and_the_ip_buckets(
    database_url: str, redis_url: str
) -> None:
    async with auth_client(database_url, redis_url, login_fail=SLOW) as http:
        for email in ("a@example.com", "b@example.com"):
            await register(http, email)

        # successful logins spend nothing
        for _ in range(5):
            assert (await _login(http, "a@example.com", PASSWORD, "10.0.0.9")).status_code == 200

        for _ in range(3):
            wrong = await _login(http, "A@example.com", "not-it-at-all", "10.0.0.1")
            assert wrong.status_code == 401 and wrong.json()["errorCode"] == "AUTH-CRED-401"

        # the account is locked from any address, even with the right password
        locked = await _login(http, "a@example.com", PASSWORD, "10.0.0.2")
        assert locked.status_code == 429
        assert locked.json()["errorCode"] == "AUTH-RATE-429"
        assert int(locked.headers["Retry-After"]) >= 1
        # the address is locked for every account
        assert (await _login(http, "b@example.com", PASSWORD, "10.0.0.1")).status_code == 429
        # other accounts from other addresses are unaffected
        assert (await _login(http, "b@example.com", PASSWORD, "10.0.0.3")).status_code == 200

    client = redis_client(redis_url)
    assert await client.exists(keys.ratelimit_bucket("login-fail", "acct:a@example.com"))
    assert not await client.exists(keys.ratelimit_bucket("login-fail", "acct:b@example.com"))
    await client.aclose()


async def test_client_ip_header_needs_the_internal_credential(
    database_url: str, redis_url: str
) -> None:
    async with auth_client(database_url, redis_url, login_fail=SLOW) as http:
        # a direct caller cannot spread its guesses over made-up addresses
        for i in range(3):
            spoofed = {"x-satyamark-client-ip": f"10.9.9.{i}"}
            body = {"email": f"u{i}@example.com", "password": "guess-guess"}
            answer = await http.post("/v1/auth/login", json=body, headers=spoofed)
            assert answer.status_code == 401
        body = {"email": "u9@example.com", "password": "guess-guess"}
        answer = await http.post("/v1/auth/login", json=body)
        assert answer.status_code == 429 and answer.json()["errorCode"] == "AUTH-RATE-429"


async def test_unknown_user_and_wrong_password_look_alike(
    database_url: str, redis_url: str
) -> None:
    async with auth_client(database_url, redis_url) as http:
        await register(http, "t@example.com")

        async def timed(email: str) -> tuple[float, httpx.Response]:
            start = time.perf_counter()
            answer = await _login(http, email, "wrong-password", "10.1.1.1")
            return time.perf_counter() - start, answer

        known, unknown = [], []
        for _ in range(5):
            t_known, a_known = await timed("t@example.com")
            t_unknown, a_unknown = await timed("nobody@example.com")
            assert a_known.status_code == a_unknown.status_code == 401
            assert a_known.json() == a_unknown.json()
            known.append(t_known)
            unknown.append(t_unknown)
        ratio = statistics.median(known) / statistics.median(unknown)
        assert 0.4 < ratio < 2.5, (known, unknown)  # both pay for one argon2 verification


async def test_login_fails_closed_without_ratelimit_service(
    database_url: str, redis_url: str
) -> None:

    settings = auth_settings(database_url, redis_url, "http://127.0.0.1:9")
    async with running(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        await register(http, "f@example.com")
        answer = await http.post(
            "/v1/auth/login", json={"email": "f@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 503 and "ratelimit_service" in answer.json()["message"]
