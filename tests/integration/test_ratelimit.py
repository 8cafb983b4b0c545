import asyncio

import httpx
import pytest

from ratelimit_service.app import create_app
from ratelimit_service.buckets import Take, TokenBuckets
from ratelimit_service.config import BucketRule, RateLimitSettings
from shared import keys
from tests.integration.auth_helpers import auth_gateway
from tests.utils.redis import redis_client
from tests.utils.servers import running
from tests.utils.settings import SIGNED, common


async def test_bucket_allows_capacity_then_denies_with_retry_after(redis_url: str) -> None:
    client = redis_client(redis_url)
    buckets = TokenBuckets(client)
    rule = BucketRule(capacity=5, refill_per_s=1)
    decisions = [await buckets.take("verify", "user:a", rule) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert 0 < decisions[5].retry_after_ms <= 1000
    # another subject and another endpoint have their own buckets
    assert (await buckets.take("verify", "user:b", rule)).allowed
    assert (await buckets.take("tasks", "user:a", rule)).allowed
    ttl = await client.pttl(keys.ratelimit_bucket("verify", "user:a"))
    assert 0 < ttl <= 6000
    await client.aclose()


async def test_bucket_refills_over_time(redis_url: str) -> None:
    client = redis_client(redis_url)
    buckets = TokenBuckets(client)
    rule = BucketRule(capacity=2, refill_per_s=20)
    assert (await buckets.take("e", "s", rule, cost=2)).allowed
    assert not (await buckets.take("e", "s", rule)).allowed
    await asyncio.sleep(0.12)
    assert (await buckets.take("e", "s", rule)).allowed
    await client.aclose()


async def test_concurrent_takes_never_overspend(redis_url: str) -> None:
    client = redis_client(redis_url, max_connections=200)
    buckets = TokenBuckets(client)
    rule = BucketRule(capacity=25, refill_per_s=0.001)
    results = await asyncio.gather(*(buckets.take("e", "s", rule) for _ in range(100)))
    assert sum(d.allowed for d in results) == 25
    await client.aclose()


async def test_service_api(redis_url: str) -> None:
    settings = RateLimitSettings(
        **common(redis_url), rules={"verify": BucketRule(capacity=1, refill_per_s=0.1)}
    )
    async with running(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        body = {"endpoint": "verify", "subject": "user:x"}
        refused = await http.post("/internal/check", json=body)
        assert refused.status_code == 403
        assert refused.json()["errorCode"] == "SYS-AUTH-403"
        auth = SIGNED
        first = await http.post("/internal/check", json=body, auth=auth)
        assert first.json() == {
            "allowed": True,
            "limit": 1,
            "remaining": 0,
            "retryAfterMs": 0,
            "nearLimit": True,
        }
        second = (await http.post("/internal/check", json=body, auth=auth)).json()
        assert second["allowed"] is False and second["retryAfterMs"] > 1000
        # endpoints not configured keep their defaults; unknown ones are an error
        assert (
            await http.post(
                "/internal/check", auth=auth, json={"endpoint": "tasks", "subject": "u"}
            )
        ).status_code == 200
        unknown = await http.post(
            "/internal/check", auth=auth, json={"endpoint": "nope", "subject": "u"}
        )
        assert unknown.status_code == 404 and unknown.json()["errorCode"] == "RL-RULE-404"
        bad = await http.post("/internal/check", auth=auth, json={"endpoint": "verify"})
        assert bad.status_code == 422 and bad.json()["errorCode"] == "RL-VAL-422"


async def test_take_many_loads_the_script_a_restarted_redis_forgot(redis_url: str) -> None:
    client = redis_client(redis_url)
    buckets = TokenBuckets(client)
    rule = BucketRule(capacity=2, refill_per_s=0.01)
    await client.script_flush()
    takes = [Take("verify", "user:n", rule) for _ in range(3)]
    decisions = await buckets.take_many(takes)
    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.allowed for d in await buckets.take_many(takes[:1])] == [False]
    await client.aclose()


async def test_a_batch_of_checks_is_decided_in_order_each_in_its_place(redis_url: str) -> None:
    settings = RateLimitSettings(
        **common(redis_url), rules={"verify": BucketRule(capacity=2, refill_per_s=0.01)}
    )
    checks = [
        {"endpoint": "verify", "subject": "user:b"},
        {"endpoint": "verify", "subject": "user:b", "peek": True},
        {"endpoint": "nope", "subject": "user:b"},
        {"endpoint": "verify", "subject": "user:b"},
        {"endpoint": "verify", "subject": "user:b"},
        {"endpoint": "verify", "subject": "user:c"},
    ]
    async with running(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        answer = await http.post("/internal/checks", json={"checks": checks}, auth=SIGNED)
        assert answer.status_code == 200, answer.text
        decisions = answer.json()["decisions"]
        # the same bucket twice in a batch: the second sees the first
        assert [d.get("allowed") for d in decisions] == [True, True, None, True, False, True]
        assert [d.get("remaining") for d in decisions] == [1, 1, None, 0, 0, 1]
        assert decisions[2] == {
            "errorCode": "RL-RULE-404",
            "message": "no rate-limit rule for endpoint 'nope'",
        }
        bad_batches: list[dict[str, object]] = [
            {"checks": []},
            {"checks": [{"endpoint": "verify"}]},
        ]
        for bad in bad_batches:
            refused = await http.post("/internal/checks", json=bad, auth=SIGNED)
            assert refused.status_code == 422 and refused.json()["errorCode"] == "RL-VAL-422"


@pytest.mark.parametrize("capacity", [1, 3])
async def test_rules_from_environment(monkeypatch: pytest.MonkeyPatch, capacity: int) -> None:
    monkeypatch.setenv(
        "RATELIMIT_RULES", f'{{"verify": {{"capacity": {capacity}, "refill_per_s": 1}}}}'
    )
    settings = RateLimitSettings()
    assert settings.rule("verify") == BucketRule(capacity=capacity, refill_per_s=1)
    assert settings.rule("auth") is not None


async def test_peek_reports_without_spending(redis_url: str) -> None:
    client = redis_client(redis_url)
    buckets = TokenBuckets(client)
    rule = BucketRule(capacity=2, refill_per_s=0.01)
    for _ in range(3):
        assert (await buckets.take("e", "s", rule, peek=True)).allowed
    assert not await client.exists(keys.ratelimit_bucket("e", "s"))  # nothing stored
    assert [(await buckets.take("e", "s", rule)).allowed for _ in range(2)] == [True, True]
    peeked = await buckets.take("e", "s", rule, peek=True)
    assert not peeked.allowed and peeked.remaining == 0 and peeked.retry_after_ms > 1000
    settings = RateLimitSettings(**common(redis_url))
    assert settings.rule("login-fail") == BucketRule(capacity=5, refill_per_s=1 / 60)
    async with running(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:
        body = {"endpoint": "login-fail", "subject": "acct:x", "peek": True}
        auth = SIGNED
        for _ in range(7):
            answer = (await http.post("/internal/check", json=body, auth=auth)).json()
            assert answer == {
                "allowed": True,
                "limit": 5,
                "remaining": 5,
                "retryAfterMs": 0,
                "nearLimit": False,
            }
    await client.aclose()


async def test_soft_limit_flags_allowed_requests_near_the_limit(redis_url: str) -> None:
    slow = 0.001
    settings = RateLimitSettings(
        **common(redis_url),
        rules={
            # the default fraction, 0.2: fewer than 2 of 10 left
            "verify": BucketRule(capacity=10, refill_per_s=slow),
            # its own: fewer than 2 of 4 left
            "tasks": BucketRule(capacity=4, refill_per_s=slow, soft_fraction=0.5),
            # none
            "ws": BucketRule(capacity=2, refill_per_s=slow, soft_fraction=0),
        },
    )
    async with running(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as http:

        async def flags(endpoint: str, times: int) -> list[tuple[bool, int, bool]]:
            found = []
            for _ in range(times):
                body = {"endpoint": endpoint, "subject": "user:s"}
                answer = (await http.post("/internal/check", json=body, auth=SIGNED)).json()
                found.append((answer["allowed"], answer["remaining"], answer["nearLimit"]))
            return found

        verify = await flags("verify", 11)
        assert verify == [(True, r, r < 2) for r in range(9, -1, -1)] + [(False, 0, False)]
        assert await flags("tasks", 5) == [
            (True, 3, False),
            (True, 2, False),
            (True, 1, True),
            (True, 0, True),
            (False, 0, False),
        ]
        assert await flags("ws", 3) == [(True, 1, False), (True, 0, False), (False, 0, False)]


def test_soft_fraction_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATELIMIT_SOFT_FRACTION", "0.5")
    monkeypatch.setenv(
        "RATELIMIT_RULES", '{"verify": {"capacity": 10, "refill_per_s": 1, "soft_fraction": 0.3}}'
    )
    settings = RateLimitSettings()
    assert settings.soft_limit(settings.rules["verify"]) == pytest.approx(3)
    tasks = settings.rule("tasks")
    assert tasks is not None and settings.soft_limit(tasks) == tasks.capacity * 0.5
    assert RateLimitSettings(soft_fraction=0.2).soft_fraction == 0.2
    with pytest.raises(ValueError):
        RateLimitSettings(soft_fraction=1.5)


async def test_gateway_warns_before_the_hard_limit(database_url: str, redis_url: str) -> None:
    rule = BucketRule(capacity=5, refill_per_s=0.001)
    async with (
        auth_gateway(database_url, redis_url, soft_fraction=0.4, auth=rule) as url,
        httpx.AsyncClient(base_url=url) as api,
    ):
        creds = {"email": "soft@example.com", "password": "s3cret-pass"}
        answers = [await api.post("/v1/auth/register", json=creds)]
        answers += [await api.post("/v1/auth/login", json=creds) for _ in range(5)]
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200, 429]
    assert [a.headers.get("RateLimit-Remaining") for a in answers] == ["4", "3", "2", "1", "0", "0"]
    # fewer than 0.4 x 5 = 2 left: warned; before that and on the refusal itself: not
    assert [a.headers.get("RateLimit-Warning") for a in answers] == [
        None,
        None,
        None,
        "approaching limit; remaining=1",
        "approaching limit; remaining=0",
        None,
    ]
    refused = answers[-1]
    assert refused.json()["errorCode"] == "GW-RATE-429" and int(refused.headers["Retry-After"]) > 1
