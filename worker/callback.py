"""Delivering a verdict to the job's callback URL, signed, with bounded retries."""

from __future__ import annotations

import asyncio
import logging
import random
from enum import StrEnum

import aiohttp
import orjson
from ulid import ULID

from shared.schemas import CallbackFailure, CallbackResult, Job, TextVerdict, Verdict
from shared.signing import sign

log = logging.getLogger(__name__)

# Worth another try: the receiver is overloaded or restarting, or asked us to slow down.
_RETRYABLE_STATUS = frozenset({408, 425, 429})
_MAX_BACKOFF_S = 10.0


class Delivery(StrEnum):
    ACCEPTED = "accepted"  # 2xx: the receiver has the result; ack the entry
    REJECTED = "rejected"  # 4xx: retrying the same body cannot help
    FAILED = "failed"  # still unreachable / 5xx after every attempt


def _backoff(attempt: int, base_s: float) -> float:
    # Full jitter, so many workers retrying after one receiver blip do not stampede.
    return random.uniform(0, min(_MAX_BACKOFF_S, base_s * 2**attempt))


def create_callback_session(timeout_s: float) -> aiohttp.ClientSession:
    """The worker's HTTP client for callbacks: aiohttp itself, not httpx over it.

    One POST per job is the worker's hottest path; in bench/queue_bench.py httpx's own
    layers (request building, URL parsing, header copies) were ~30% of a no-op worker's
    CPU on top of the aiohttp transport doing the actual work.
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_s, connect=3.0),
        connector=aiohttp.TCPConnector(limit=256),
        skip_auto_headers=("User-Agent",),
    )


async def post_result(
    client: aiohttp.ClientSession,
    url: str,
    result: CallbackResult | CallbackFailure,
    secret: bytes,
    *,
    attempts: int = 4,
    backoff_s: float = 0.25,
) -> Delivery:
    """POST ``result`` to ``url``; each attempt has its own delivery id and signature."""
    body = orjson.dumps(result.model_dump(mode="json", exclude_none=True))
    for attempt in range(attempts):
        headers = sign(secret, str(ULID()), body)
        headers["content-type"] = "application/json"
        try:
            async with client.post(url, data=body, headers=headers) as response:
                status = response.status
                detail = "" if status < 400 else (await response.text(errors="replace"))[:300]
        except (aiohttp.ClientError, TimeoutError) as exc:  # connect, timeout, dropped
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if 200 <= status < 300:
                return Delivery.ACCEPTED
            if 400 <= status < 500 and status not in _RETRYABLE_STATUS:
                log.error("callback for task %s refused with %d: %s", result.taskId, status, detail)
                return Delivery.REJECTED
            problem = f"HTTP {status}"
        if attempt + 1 < attempts:
            delay = _backoff(attempt, backoff_s)
            log.warning(
                "callback for task %s failed (%s), retry %d/%d in %.2fs",
                result.taskId,
                problem,
                attempt + 1,
                attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)
        else:
            log.error(
                "callback for task %s failed after %d attempts (%s)",
                result.taskId,
                attempts,
                problem,
            )
    return Delivery.FAILED


def result_for(job: Job, verdict: Verdict, *, model: str, worker_id: str) -> CallbackResult:
    """The callback body for ``job``: its own verdict (with the per-claim verdicts of a
    ``TextVerdict``), echoed ``job_token`` and taskId."""
    return CallbackResult(
        taskId=job.taskId,
        mark=verdict.mark,
        reason=verdict.reason,
        confidence=verdict.confidence,
        claims=list(verdict.claims) if isinstance(verdict, TextVerdict) else [],
        job_token=job.job_token,
        model=model[:512],
        workerId=worker_id[:128],
    )


def failure_for(
    job: Job | dict[str, str], code: str, message: str, *, worker_id: str
) -> CallbackFailure:
    """The failure callback body for ``job`` (or a raw entry with taskId and job_token)."""
    task_id, token = (
        (job.taskId, job.job_token) if isinstance(job, Job) else (job["taskId"], job["job_token"])
    )
    return CallbackFailure(
        taskId=task_id,
        job_token=token,
        status="failed",
        errorCode=code,
        message=message[:2000],
        workerId=worker_id[:128],
    )
