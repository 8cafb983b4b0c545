"""Signed result delivery against a real HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from satyamark.infra import free_port
from shared.schemas import CallbackResult, ClaimVerdict, Evidence, Mark, TextVerdict, Verdict
from tests.utils.settings import CALLBACK_SECRET
from worker.callback import CallbackSender, Delivery, create_callback_session, result_for

from .helpers import CallbackServer, make_job

SECRET = CALLBACK_SECRET.encode()
METHOD = "Known claims found by sentence embedding; stance from a word-level check."


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    client = create_callback_session(2.0)
    yield client
    await client.close()


def sender(http: aiohttp.ClientSession, secret: bytes = SECRET, **options: Any) -> CallbackSender:
    return CallbackSender(http, secret, **({"backoff_s": 0.01} | options))


def _result(url: str, text: str = "The Earth orbits the Sun.") -> CallbackResult:
    job = make_job(text, url)
    verdict = Verdict(mark=Mark.CORRECT, reason="a reason", confidence=70)
    return result_for(job, verdict, model="tiny", worker_id="w1")


async def test_result_echoes_the_job() -> None:
    job = make_job("some text here", "http://x/cb")
    verdict = Verdict(mark=Mark.SUBJECTIVE, reason="r", confidence=5)
    result = result_for(job, verdict, model="m" * 600, worker_id="w")
    assert (result.taskId, result.job_token) == (job.taskId, job.job_token)
    assert (result.mark, result.reason, result.confidence) == (Mark.SUBJECTIVE, "r", 5)
    assert result.model == "m" * 512
    assert result.claims == []  # a plain verdict has no per-claim verdicts
    assert result.method is None  # nor a method


def _text_verdict() -> TextVerdict:
    evidence = Evidence(
        claim="The Earth orbits the Sun.",
        verdict="true",
        explanation="Heliocentrism.",
        sourceUrl="https://example.org/earth",
        sourceName="Example",
        similarity=0.93,
    )
    claims = [
        ClaimVerdict(
            text="The Earth orbits the Sun.",
            mark=Mark.CORRECT,
            reason="Entailed by a known fact.",
            confidence=91,
            stance="entails",
            evidence=evidence,
        ),
        ClaimVerdict(text="It is nice.", mark=Mark.SUBJECTIVE, reason="An opinion.", confidence=60),
    ]
    return TextVerdict(
        mark=Mark.CORRECT, reason="a reason", confidence=80, claims=claims, method=METHOD
    )


async def test_result_carries_a_text_verdicts_claims() -> None:
    job = make_job("The Earth orbits the Sun. It is nice.", "http://x/cb")
    verdict = _text_verdict()
    result = result_for(job, verdict, model="tiny", worker_id="w")
    assert result.claims == verdict.claims
    assert result.method == METHOD
    assert (result.mark, result.confidence) == (Mark.CORRECT, 80)


async def test_a_text_verdict_without_a_method_sends_none() -> None:
    job = make_job("The Earth orbits the Sun.", "http://x/cb")
    verdict = _text_verdict().model_copy(update={"method": None})
    assert result_for(job, verdict, model="tiny", worker_id="w").method is None


async def test_claims_survive_the_signed_delivery(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    job = make_job("The Earth orbits the Sun. It is nice.", callback_server.url)
    result = result_for(job, _text_verdict(), model="tiny", worker_id="w1")
    assert await sender(http).send(callback_server.url, result) is Delivery.ACCEPTED
    (received,) = callback_server.received
    assert received == result and len(received.claims) == 2
    assert received.method == METHOD


async def test_a_lone_result_is_the_plain_object(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    result = _result(callback_server.url)
    assert await sender(http).send(callback_server.url, result) is Delivery.ACCEPTED
    assert callback_server.received == [result]
    assert callback_server.sizes == [1]
    assert callback_server.bad_signatures == 0


async def test_results_ready_together_share_one_post(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    url = callback_server.url
    results = [_result(url, f"Claim number {i} is here.") for i in range(40)]
    shared = sender(http, max_items=16)
    outcomes = await asyncio.gather(*(shared.send(url, r) for r in results))
    # 40 results ready in one loop turn leave as 16 + 16 + 8.
    assert set(outcomes) == {Delivery.ACCEPTED}
    assert sorted(callback_server.sizes) == [8, 16, 16]
    assert {r.taskId for r in callback_server.received} == {r.taskId for r in results}


async def test_batches_respect_the_byte_limit(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    url = callback_server.url
    results = [_result(url, f"Claim number {i} is here.") for i in range(10)]
    one = len(results[0].model_dump_json(exclude_none=True))
    shared = sender(http, max_bytes=3 * one + 10)
    outcomes = await asyncio.gather(*(shared.send(url, r) for r in results))
    assert set(outcomes) == {Delivery.ACCEPTED}
    assert max(callback_server.sizes) <= 3 and sum(callback_server.sizes) == 10


async def test_one_refused_result_does_not_sink_its_batch(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    url = callback_server.url
    results = [_result(url, f"Claim number {i} is here.") for i in range(5)]
    callback_server.refuse = {results[2].taskId: 409}
    shared = sender(http)
    outcomes = await asyncio.gather(*(shared.send(url, r) for r in results))
    assert outcomes == [Delivery.ACCEPTED] * 2 + [Delivery.REJECTED] + [Delivery.ACCEPTED] * 2
    assert callback_server.sizes == [5]


async def test_a_receiver_without_batches_gets_each_result_alone(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    url = callback_server.url
    callback_server.batches_allowed = False
    results = [_result(url, f"Claim number {i} is here.") for i in range(4)]
    shared = sender(http)
    outcomes = await asyncio.gather(*(shared.send(url, r) for r in results))
    assert set(outcomes) == {Delivery.ACCEPTED}
    assert callback_server.sizes == [1, 1, 1, 1]
    assert len(callback_server.received) == 4


async def test_wrong_secret_is_refused_without_retry(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    result = _result(callback_server.url)
    outcome = await sender(http, b"wrong").send(callback_server.url, result)
    assert outcome is Delivery.REJECTED
    assert callback_server.bad_signatures == 1


async def test_server_errors_are_retried_with_a_new_delivery_id(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [503, 500, 429]
    result = _result(callback_server.url)
    assert await sender(http).send(callback_server.url, result) is Delivery.ACCEPTED
    assert len(callback_server.delivery_ids) == 4
    assert len(set(callback_server.delivery_ids)) == 4


async def test_a_failed_batch_is_retried_whole(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    url = callback_server.url
    callback_server.statuses = [503]
    results = [_result(url, f"Claim number {i} is here.") for i in range(3)]
    shared = sender(http)
    outcomes = await asyncio.gather(*(shared.send(url, r) for r in results))
    assert set(outcomes) == {Delivery.ACCEPTED}
    assert len(callback_server.delivery_ids) == 2 and callback_server.sizes == [3]


async def test_client_error_is_permanent(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [403]
    result = _result(callback_server.url)
    assert await sender(http).send(callback_server.url, result) is Delivery.REJECTED
    assert len(callback_server.delivery_ids) == 1


async def test_gives_up_after_the_attempts(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [502] * 10
    result = _result(callback_server.url)
    outcome = await sender(http, attempts=3).send(callback_server.url, result)
    assert outcome is Delivery.FAILED
    assert len(callback_server.delivery_ids) == 3


async def test_unreachable_receiver_fails(http: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{free_port()}/ai-callback"
    outcome = await sender(http, attempts=2).send(url, _result(url))
    assert outcome is Delivery.FAILED
