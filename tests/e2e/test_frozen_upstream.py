"""A frozen ratelimit_service (SIGSTOP: it accepts connections and never answers) under
a burst bigger than one batch of checks (shared/coalesce.py sends 64 at most): every
submit gets a clear dependency error within about two of the client's timeouts (the
batch ahead, then its own), never waiting in a line of batches; nothing is accepted
unchecked; after SIGCONT submits go through again."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import pytest

from satyamark.devstack import Stack
from tests.e2e.test_pipeline import _bearer, _register

pytestmark = pytest.mark.e2e

BURST = 150  # more than two full batches of 64
CHECK_TIMEOUT_S = 3.0  # the gateway's rate-limit client (gateway/app.py)


async def test_a_frozen_rate_limiter_fails_each_submit_in_bounded_time(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    user = await _register(api, "frozen-limiter")
    auth = _bearer(user["access_token"])
    limiter = stack.components["ratelimit_service"].proc
    assert limiter is not None
    os.kill(limiter.pid, signal.SIGSTOP)
    try:
        # a connection each: the client's own pool must not queue the burst
        limits = httpx.Limits(max_connections=BURST)
        async with httpx.AsyncClient(
            base_url=stack.gateway_url, timeout=30, limits=limits
        ) as burst:

            async def submit(n: int) -> tuple[int, str, float]:
                start = time.monotonic()
                text = {"text": f"Frozen limiter text {n}."}
                answer = await burst.post("/v1/verify", json=text, headers=auth)
                took = time.monotonic() - start
                return answer.status_code, answer.json().get("errorCode", ""), took

            answers = await asyncio.gather(*(submit(n) for n in range(BURST)))
    finally:
        os.kill(limiter.pid, signal.SIGCONT)
    assert {status for status, _, _ in answers} <= {503, 504}, answers[:3]
    assert all(code for _, code, _ in answers)  # each says why
    slowest = max(took for _, _, took in answers)
    # two timeouts and slack for a loaded CI box; a line of batches would take 3+
    assert slowest < 2 * CHECK_TIMEOUT_S + 2.5, slowest

    for _ in range(50):  # the limiter catches up on what it was sent meanwhile
        again = await api.post("/v1/verify", json={"text": "Thawed limiter."}, headers=auth)
        if again.status_code in (200, 202):
            break
        await asyncio.sleep(0.2)
    assert again.status_code in (200, 202), again.text
