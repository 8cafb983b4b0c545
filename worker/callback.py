"""Delivering verdicts to the jobs' callback URL, signed, in batches, with bounded retries.

One signed POST per result was the worker's largest fixed cost per job (bench/queue.py).
Results bound for the same URL therefore go together, like a database group commit:
results that become ready in the same event-loop turn (one model batch), or while the
POSTs to that URL are in flight, leave in the next POST. An idle worker still sends each
result at once, and a lone result is the spec's plain JSON object; two or more are a
JSON array, which the result receiver answers item by item (``{"results": [...]}``).

A batch the receiver refuses as a whole with a 4xx (a receiver without batch support,
or one bad item spoiling the parse) is re-sent one result at a time, so one result can
never sink the others and a plain receiver still gets every result.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from dataclasses import KW_ONLY, dataclass, field
from enum import StrEnum

import aiohttp
import orjson
from ulid import ULID

from shared.metrics import WORKER_CALLBACK
from shared.schemas import (
    CallbackFailure,
    CallbackProgress,
    CallbackResult,
    Job,
    TextVerdict,
    Verdict,
)
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


def _retryable(status: int) -> bool:
    return status >= 500 or status in _RETRYABLE_STATUS


def create_callback_session(timeout_s: float) -> aiohttp.ClientSession:
    """The worker's HTTP client for callbacks: aiohttp itself, not httpx over it.

    Callbacks are the worker's hottest path; in the queue benchmark httpx's own layers
    (request building, URL parsing, header copies) cost a no-op worker a large share of
    its CPU on top of the aiohttp transport doing the actual work (figures:
    bench/README.md).
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_s, connect=3.0),
        connector=aiohttp.TCPConnector(limit=256),
        skip_auto_headers=("User-Agent",),
    )


@dataclass(slots=True)
class _Waiting:
    task_id: str
    body: bytes
    outcome: asyncio.Future[Delivery]


@dataclass(slots=True)
class _Lane:
    """The results waiting for one URL, and how many POSTs to it are in flight."""

    waiting: list[_Waiting] = field(default_factory=list)
    posting: int = 0
    kick_scheduled: bool = False


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int | None  # None: no HTTP answer (connection refused, timeout)
    body: bytes = b""
    problem: str = ""


@dataclass(slots=True, eq=False)
class CallbackSender:
    """``await sender.send(url, result) -> Delivery``; see the module docstring."""

    session: aiohttp.ClientSession
    secret: bytes
    _: KW_ONLY
    attempts: int = 4
    backoff_s: float = 0.25
    max_items: int = 64
    max_bytes: int = 256 * 1024
    concurrency: int = 2
    _lanes: defaultdict[str, _Lane] = field(
        init=False, repr=False, default_factory=lambda: defaultdict(_Lane)
    )
    _posts: set[asyncio.Task[None]] = field(init=False, repr=False, default_factory=set)

    async def send(
        self, url: str, result: CallbackResult | CallbackFailure | CallbackProgress
    ) -> Delivery:
        body = orjson.dumps(result.model_dump(mode="json", exclude_none=True))
        outcome: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()
        lane = self._lanes[url]
        lane.waiting.append(_Waiting(result.taskId, body, outcome))
        if not lane.kick_scheduled:
            # After this loop turn: every result of one model batch is waiting by then.
            lane.kick_scheduled = True
            asyncio.get_running_loop().call_soon(self._kick, url)
        return await outcome

    def _kick(self, url: str) -> None:
        lane = self._lanes[url]
        lane.kick_scheduled = False
        while lane.waiting and lane.posting < self.concurrency:
            batch = self._take_batch(lane)
            lane.posting += 1
            task = asyncio.create_task(self._post_batch(url, batch))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)
        if not lane.waiting and not lane.posting:
            del self._lanes[url]

    def _take_batch(self, lane: _Lane) -> list[_Waiting]:
        size, count = 0, 0
        for item in lane.waiting[: self.max_items]:
            if count and size + len(item.body) > self.max_bytes:
                break
            size += len(item.body) + 1
            count += 1
        batch, lane.waiting = lane.waiting[:count], lane.waiting[count:]
        return batch

    async def _post_batch(self, url: str, batch: list[_Waiting]) -> None:
        try:
            outcomes = await self._deliver(url, batch)
            for item, outcome in zip(batch, outcomes, strict=True):
                if not item.outcome.done():
                    item.outcome.set_result(outcome)
        except BaseException as exc:
            for item in batch:
                if not item.outcome.done():
                    item.outcome.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            lane = self._lanes[url]
            lane.posting -= 1
            self._kick(url)

    async def _deliver(self, url: str, batch: list[_Waiting]) -> list[Delivery]:
        with WORKER_CALLBACK.time():
            return await self._deliver_batch(url, batch)

    async def _deliver_batch(self, url: str, batch: list[_Waiting]) -> list[Delivery]:
        if len(batch) == 1:
            return [await self._deliver_one(url, batch[0])]
        body = b"[" + b",".join(item.body for item in batch) + b"]"
        answer = await self._post(url, body, f"a batch of {len(batch)} results")
        if answer.status is None or _retryable(answer.status):
            return [Delivery.FAILED] * len(batch)
        outcomes = _item_outcomes(answer, batch) if answer.status < 300 else None
        if outcomes is None:
            # Refused or not understood as a whole: each result on its own.
            log.warning(
                "callback batch of %d refused with %d; sending each result alone",
                len(batch),
                answer.status,
            )
            return list(await asyncio.gather(*(self._deliver_one(url, i) for i in batch)))
        return outcomes

    async def _deliver_one(self, url: str, item: _Waiting) -> Delivery:
        answer = await self._post(url, item.body, f"task {item.task_id}")
        if answer.status is None or _retryable(answer.status):
            return Delivery.FAILED
        if answer.status < 300:
            return Delivery.ACCEPTED
        detail = answer.body[:300].decode(errors="replace")
        log.error(
            "callback for task %s refused with %d: %s",
            item.task_id, answer.status, detail, extra={"taskId": item.task_id},
        )  # fmt: skip
        return Delivery.REJECTED

    async def _post(self, url: str, body: bytes, what: str) -> _Answer:
        """POST ``body`` until it gets a final answer (2xx, or a 4xx that retrying cannot
        change) or runs out of attempts; each attempt has its own delivery id."""
        answer = _Answer(None)
        for attempt in range(self.attempts):
            headers = sign(self.secret, str(ULID()), body)
            headers["content-type"] = "application/json"
            try:
                async with self.session.post(url, data=body, headers=headers) as response:
                    answer = _Answer(response.status, await response.read())
            except (aiohttp.ClientError, TimeoutError) as exc:  # connect, timeout, dropped
                answer = _Answer(None, problem=f"{type(exc).__name__}: {exc}")
            else:
                if not _retryable(answer.status or 0):
                    return answer
                answer = _Answer(answer.status, answer.body, f"HTTP {answer.status}")
            if attempt + 1 < self.attempts:
                delay = _backoff(attempt, self.backoff_s)
                log.warning(
                    "callback for %s failed (%s), retry %d/%d in %.2fs",
                    what, answer.problem, attempt + 1, self.attempts - 1, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
        log.error(
            "callback for %s failed after %d attempts (%s)", what, self.attempts, answer.problem
        )
        return answer

    async def close(self) -> None:
        """Wait for the POSTs in flight (their results are acked or left pending)."""
        if self._posts:
            await asyncio.gather(*self._posts, return_exceptions=True)


def _item_outcomes(answer: _Answer, batch: list[_Waiting]) -> list[Delivery] | None:
    """Per-result outcomes from a batch answer; None when it is not one."""
    try:
        items = orjson.loads(answer.body)["results"]
        if len(items) != len(batch):
            return None
        outcomes = []
        for item, sent in zip(items, batch, strict=True):
            if item["taskId"] != sent.task_id:
                return None
            status = int(item["status"])
            if 200 <= status < 300:
                outcomes.append(Delivery.ACCEPTED)
            elif _retryable(status):
                outcomes.append(Delivery.FAILED)
            else:
                log.error(
                    "callback for task %s refused with %d: %s",
                    sent.task_id, status, item.get("errorCode", ""),
                    extra={"taskId": sent.task_id},
                )  # fmt: skip
                outcomes.append(Delivery.REJECTED)
        return outcomes
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def result_for(
    job: Job, verdict: Verdict, *, model: str, worker_id: str, traceparent: str | None = None
) -> CallbackResult:
    """The callback body for ``job``: its own verdict (with the per-claim verdicts and
    method of a ``TextVerdict``), echoed ``job_token`` and taskId."""
    return CallbackResult(
        taskId=job.taskId,
        mark=verdict.mark,
        reason=verdict.reason,
        confidence=verdict.confidence,
        claims=list(verdict.claims) if isinstance(verdict, TextVerdict) else [],
        method=verdict.method if isinstance(verdict, TextVerdict) else None,
        job_token=job.job_token,
        model=model[:512],
        workerId=worker_id[:128],
        traceparent=traceparent,
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
