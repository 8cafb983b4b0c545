"""Outages of Redis and PostgreSQL, seen from the public API only.

Requirement: with PostgreSQL or Redis down, requests fail fast with 503 and a clear
``errorCode`` (no hanging), and everything resumes by itself when they return.

One stack (1 worker, private Redis and PostgreSQL), one user:

1. baseline: a text is accepted (202) and its result read back with
   ``GET /v1/tasks/{taskId}``;
2. a text is accepted, then Redis is killed (-9) and left down. Submitting, reading a
   task, logging in, registering and refreshing a token each answer within ``FAST_S``
   with 503 and ``{errorCode, message}``. Redis comes back empty; with no service
   restarted a new text is accepted within ``RECOVER_S`` and gets its result (the
   worker makes its consumer group again), and the text accepted before the crash gets
   its result too (from the worker that held its job, or, if Redis lost the job, from
   the backend's sweeper enqueueing it again);
3. the same for PostgreSQL (fast shutdown, left down, started again on the same data).
   The text accepted just before it went down is verified while it is down (a job
   takes ``MIN_JOB_MS``) and its result recorded once it is back.

The gateway's token cache is off (``GATEWAY_AUTH_CACHE_TTL_S=0``), so every request is
validated by auth_service during the outage too (the longest path). The measured
figures are printed at the end.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from ulid import ULID

from .conftest import ChaosStack, chaos_stack
from .harness import User

pytestmark = pytest.mark.e2e

FAST_S = 3.0  # every answer while a server is down, wall time
RECOVER_S = 20.0  # a submission is accepted again after the server is back
RESULT_S = 30.0  # an accepted text gets its result
SWEPT_S = 45.0  # a text whose job Redis lost gets its result (sweeper: 5 s + a tick)
MIN_JOB_MS = 1500  # long enough that the job accepted before an outage runs through it
PROBE_ROUNDS = 2  # each request is tried this often while a server is down
PASSWORD = "password-123"
DEP_CODE = re.compile(r"^[A-Z]+(-[A-Z]+)*-503$")

ENV = {
    "WORKER_MIN_JOB_MS": str(MIN_JOB_MS),
    "WORKER_LEASE_MS": "3000",
    # ride out the outage in callback retries rather than leaving the result to the lease
    "WORKER_CALLBACK_ATTEMPTS": "12",
    "WORKER_RETRY_BACKOFF_S": "0.5",
    "WORKER_DRAIN_TIMEOUT_S": "2",
    "BACKEND_SWEEP_INTERVAL_S": "1",
    "BACKEND_SWEEP_AFTER_S": "5",
    "GATEWAY_AUTH_CACHE_TTL_S": "0",
}


@dataclass(frozen=True)
class Probe:
    """One request made while a server was down."""

    what: str
    status: int | None  # None: no answer at all (timeout or connection error)
    error_code: str | None
    message: str | None
    elapsed_s: float

    def problem(self) -> str | None:
        if self.status is None:
            return f"{self.what}: no answer within {self.elapsed_s:.1f}s ({self.message})"
        if self.elapsed_s >= FAST_S:
            return f"{self.what}: answered after {self.elapsed_s:.2f}s (bound {FAST_S:.0f}s)"
        if self.status != 503:
            return f"{self.what}: {self.status} {self.error_code} {self.message!r}, not 503"
        if not self.error_code or not DEP_CODE.match(self.error_code) or not self.message:
            return f"{self.what}: 503 without a clear error: {self.error_code} {self.message!r}"
        return None


@dataclass
class Outage:
    server: str
    probes: list[Probe]
    down_s: float = 0.0  # stopped -> start called
    start_s: float = 0.0  # start called -> answering
    accepted_after_s: float = 0.0  # answering -> a new text accepted (202)
    attempts: int = 0  # submissions until then
    result_after_s: float = 0.0  # accepted -> final
    earlier_after_s: float = 0.0  # answering -> the text accepted before the outage final


def _text(tag: str) -> str:
    return f"Outage check {tag} {ULID()}: the river is 4{len(tag)}0 kilometres long."


async def _register(api: httpx.AsyncClient, email: str) -> tuple[User, str]:
    """The new user and their refresh token."""
    answer = await api.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    body = answer.json()
    return User("outage", body["userId"], body["access_token"]), body["refresh_token"]


async def _submit(api: httpx.AsyncClient, user: User, text: str) -> str:
    answer = await api.post("/v1/verify", json={"text": text}, headers=user.auth)
    assert answer.status_code == 202, answer.text
    task_id: str = answer.json()["taskId"]
    return task_id


async def _final(
    api: httpx.AsyncClient, user: User, task_id: str, wait_s: float
) -> tuple[float, float]:
    """Poll ``GET /v1/tasks/{taskId}`` until the task is done: seconds it took, and its
    ``completedAt`` (epoch seconds)."""
    started = time.monotonic()
    while True:
        try:
            answer = await api.get(f"/v1/tasks/{task_id}", headers=user.auth)
            body: dict[str, Any] = answer.json()
            if answer.status_code == 200 and body["status"] != "queued":
                assert body["status"] == "done", body
                assert body["result"]["mark"], body
                completed = datetime.fromisoformat(body["completedAt"]).timestamp()
                return time.monotonic() - started, completed
            problem = f"{answer.status_code} {answer.text[:200]}"
        except (httpx.TransportError, ValueError) as exc:
            problem = repr(exc)
        if time.monotonic() - started > wait_s:
            raise AssertionError(f"task {task_id} not done within {wait_s:.0f}s: {problem}")
        await asyncio.sleep(0.2)


async def _until_accepted(
    api: httpx.AsyncClient, user: User, text: str, wait_s: float
) -> tuple[str, float, int]:
    """Submit ``text`` until it is accepted (202): taskId, seconds, attempts."""
    started = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        try:
            answer = await api.post("/v1/verify", json={"text": text}, headers=user.auth)
            if answer.status_code == 202:
                return answer.json()["taskId"], time.monotonic() - started, attempts
            problem = f"{answer.status_code} {answer.text[:200]}"
            assert answer.status_code >= 500, f"refused after the outage: {problem}"
        except httpx.TransportError as exc:
            problem = repr(exc)
        if time.monotonic() - started > wait_s:
            raise AssertionError(f"no submission accepted within {wait_s:.0f}s: {problem}")
        await asyncio.sleep(0.2)


async def _probe(api: httpx.AsyncClient, what: str, method: str, url: str, **kwargs: Any) -> Probe:
    started = time.monotonic()
    try:
        # a generous client timeout: a hang shows up as a slow answer, not a stuck test
        answer = await api.request(method, url, timeout=4 * FAST_S, **kwargs)
    except httpx.TransportError as exc:
        return Probe(what, None, None, repr(exc), time.monotonic() - started)
    elapsed = time.monotonic() - started
    try:
        body = answer.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    return Probe(what, answer.status_code, body.get("errorCode"), body.get("message"), elapsed)


async def _probe_all(
    api: httpx.AsyncClient, user: User, email: str, refresh: str, task_id: str
) -> list[Probe]:
    probes = []
    for round_ in range(PROBE_ROUNDS):
        if round_:
            await asyncio.sleep(1)
        probes += [
            await _probe(
                api, "POST /v1/verify", "POST", "/v1/verify",
                json={"text": _text("down")}, headers=user.auth,
            ),
            await _probe(
                api, "GET /v1/tasks/{id}", "GET", f"/v1/tasks/{task_id}", headers=user.auth
            ),
            await _probe(
                api, "POST /v1/auth/login", "POST", "/v1/auth/login",
                json={"email": email, "password": PASSWORD},
            ),
            await _probe(
                api, "POST /v1/auth/register", "POST", "/v1/auth/register",
                json={"email": f"new-{ULID().hex[-10:]}@example.com", "password": PASSWORD},
            ),
            await _probe(
                api, "POST /v1/auth/refresh", "POST", "/v1/auth/refresh",
                json={"refresh_token": refresh},
            ),
        ]  # fmt: skip
    return probes


async def _outage(
    outages: list[Outage],
    api: httpx.AsyncClient,
    user: User,
    email: str,
    refresh: str,
    server: str,
    stop: Callable[[], None],
    start: Callable[[], None],
    known_task: str,
    after: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Take ``server`` down, probe the API, bring it back, wait for recovery; the
    figures go to ``outages`` as they are measured."""
    earlier = await _submit(api, user, _text(f"before-{server}"))
    await asyncio.to_thread(stop)
    stopped, stopped_at = time.monotonic(), time.time()
    outage = Outage(server, await _probe_all(api, user, email, refresh, known_task))
    outages.append(outage)
    begun = time.monotonic()
    outage.down_s = begun - stopped
    await asyncio.to_thread(start)
    back = time.monotonic()
    outage.start_s = back - begun
    task_id, outage.accepted_after_s, outage.attempts = await _until_accepted(
        api, user, _text(f"after-{server}"), RECOVER_S
    )
    outage.result_after_s, _ = await _final(api, user, task_id, RESULT_S)
    _, completed = await _final(api, user, earlier, SWEPT_S)
    outage.earlier_after_s = time.monotonic() - back
    # it was still open when the server went down: it came through the outage
    assert completed > stopped_at, (completed, stopped_at)
    if after is not None:
        await after()


def _summary(baseline_s: float, outages: list[Outage], total_s: float) -> str:
    lines = [f"outages: baseline result in {baseline_s:.2f}s; test body {total_s:.0f}s"]
    # figures of a step that was not reached (a failure) stay 0
    for o in outages:
        lines.append(
            f"  {o.server} down {o.down_s:.1f}s (started again in {o.start_s:.1f}s): "
            f"new text accepted {o.accepted_after_s:.2f}s after it answered "
            f"({o.attempts} attempts), its result {o.result_after_s:.2f}s later; "
            f"the text accepted before the outage done {o.earlier_after_s:.2f}s after"
        )
        for p in o.probes:
            lines.append(
                f"    {p.what:<22} {p.status} {p.error_code} {p.elapsed_s * 1000:6.0f} ms"
                f"  {p.message!r}"
            )
    return "\n".join(lines)


async def test_redis_and_postgres_outages(tmp_path: Path) -> None:
    async with chaos_stack(tmp_path, workers=1, ws_instances=1, env=ENV) as chaos:
        await _outages(chaos)


async def _outages(chaos: ChaosStack) -> None:
    stack = chaos.s
    started = time.monotonic()
    email = f"outage-{ULID().hex[-10:]}@example.com"
    outages: list[Outage] = []
    baseline_s = 0.0
    try:
        async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as api:
            user, refresh = await _register(api, email)
            baseline = await _submit(api, user, _text("baseline"))
            baseline_s, _ = await _final(api, user, baseline, RESULT_S)

            async def worker_rejoined() -> None:
                # the worker made its consumer group again by itself (it took the new text)
                assert await asyncio.to_thread(stack.workers_joined) == 1

            await _outage(
                outages, api, user, email, refresh, "redis", chaos.stop_redis,
                chaos.start_redis, baseline, worker_rejoined,
            )  # fmt: skip
            await _outage(
                outages, api, user, email, refresh, "postgres", chaos.stop_postgres,
                chaos.start_postgres, baseline,
            )  # fmt: skip
            # logging in and refreshing work again too
            answer = await api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            answer = await api.post("/v1/auth/refresh", json={"refresh_token": refresh})
            assert answer.status_code == 200, answer.text
    finally:
        print("\n" + _summary(baseline_s, outages, time.monotonic() - started))
    assert not stack.supervise_once(), "a component died during the outages"
    problems = [p for o in outages for probe in o.probes if (p := probe.problem())]
    assert not problems, "\n".join(problems)
