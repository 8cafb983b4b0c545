"""Signed result delivery against a real HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from satyamark.infra import free_port
from shared.schemas import CallbackResult, ClaimVerdict, Evidence, Mark, TextVerdict, Verdict
from tests.utils.settings import CALLBACK_SECRET
from worker.callback import Delivery, create_callback_session, post_result, result_for

from .helpers import CallbackServer, make_job

SECRET = CALLBACK_SECRET.encode()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    client = create_callback_session(2.0)
    yield client
    await client.close()


def _result(url: str) -> CallbackResult:
    job = make_job("The Earth orbits the Sun.", url)
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
    return TextVerdict(mark=Mark.CORRECT, reason="a reason", confidence=80, claims=claims)


async def test_result_carries_a_text_verdicts_claims() -> None:
    job = make_job("The Earth orbits the Sun. It is nice.", "http://x/cb")
    verdict = _text_verdict()
    result = result_for(job, verdict, model="tiny", worker_id="w")
    assert result.claims == verdict.claims
    assert (result.mark, result.confidence) == (Mark.CORRECT, 80)


async def test_claims_survive_the_signed_delivery(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    job = make_job("The Earth orbits the Sun. It is nice.", callback_server.url)
    result = result_for(job, _text_verdict(), model="tiny", worker_id="w1")
    assert await post_result(http, callback_server.url, result, SECRET) is Delivery.ACCEPTED
    (received,) = callback_server.received
    assert received == result and len(received.claims) == 2


async def test_signed_delivery_is_accepted(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    result = _result(callback_server.url)
    assert await post_result(http, callback_server.url, result, SECRET) is Delivery.ACCEPTED
    assert callback_server.received == [result]
    assert callback_server.bad_signatures == 0


async def test_wrong_secret_is_refused_without_retry(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    result = _result(callback_server.url)
    outcome = await post_result(http, callback_server.url, result, b"wrong", backoff_s=0)
    assert outcome is Delivery.REJECTED
    assert callback_server.bad_signatures == 1


async def test_server_errors_are_retried_with_a_new_delivery_id(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [503, 500, 429]
    result = _result(callback_server.url)
    outcome = await post_result(http, callback_server.url, result, SECRET, backoff_s=0.01)
    assert outcome is Delivery.ACCEPTED
    assert len(callback_server.delivery_ids) == 4
    assert len(set(callback_server.delivery_ids)) == 4


async def test_client_error_is_permanent(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [403]
    result = _result(callback_server.url)
    outcome = await post_result(http, callback_server.url, result, SECRET, backoff_s=0.01)
    assert outcome is Delivery.REJECTED
    assert len(callback_server.delivery_ids) == 1


async def test_gives_up_after_the_attempts(
    http: aiohttp.ClientSession, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [502] * 10
    result = _result(callback_server.url)
    outcome = await post_result(
        http, callback_server.url, result, SECRET, attempts=3, backoff_s=0.01
    )
    assert outcome is Delivery.FAILED
    assert len(callback_server.delivery_ids) == 3


async def test_unreachable_receiver_fails(http: aiohttp.ClientSession) -> None:
    url = f"http://127.0.0.1:{free_port()}/ai-callback"
    outcome = await post_result(http, url, _result(url), SECRET, attempts=2, backoff_s=0.01)
    assert outcome is Delivery.FAILED
