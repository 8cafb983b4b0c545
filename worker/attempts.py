"""What happens to an entry after the model: deliver, retry later, or fail it for good.

Attempts are counted by Redis, never by a field the worker rewrites: the pending list's
delivery counter is 1 after XREADGROUP and goes up by one on every XCLAIM/XAUTOCLAIM
(the lease heartbeat uses XCLAIM JUSTID, which does not count). After a failed attempt
(the model raised or ran out of memory, or the receiver refused the result with a 4xx)
the worker reads the counter (XPENDING) and appends the error to the entry's history:

- fewer than ``max_attempts`` deliveries: the entry stays pending and its lease is no
  longer renewed. After a backoff with jitter the worker claims it again (a plain
  XCLAIM, so the counter goes up) and re-runs it; if the backoff outlasts the lease,
  another worker's XAUTOCLAIM may take it first (also counted), and it is theirs;
- otherwise: the task is failed through the callback, and ``dead_letter.lua`` copies the
  entry with its error and history to the DLQ while XACK+XDEL remove it, atomically.

Bad input never reaches the model and is not retried. A receiver that is down (transport
errors, 5xx) is not a failure of the job: the entry stays pending for the lease reclaim.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError
from redis.exceptions import RedisError

from shared import tracing
from shared.metrics import WORKER_JOBS
from shared.schemas import CallbackFailure, CallbackResult

from .acker import Acker
from .callback import CallbackSender, Delivery, failure_for
from .config import WorkerSettings
from .inflight import Hold, InFlight
from .progress import ProgressReporter
from .queue import JobQueue, StreamEntry
from .types import Item, parse_job

log = logging.getLogger(__name__)

_GIVE_UP_MESSAGES = {
    "WK-MODEL-OOM": "The model ran out of memory on this text {n} times; giving up.",
    "WK-MODEL-ERROR": "The model failed on this text {n} times; giving up.",
    "WK-CALLBACK-REFUSED": "The verdict was refused by the result receiver.",
}


def retry_delay(deliveries: int, base_s: float, cap_s: float) -> float:
    """Exponential backoff with jitter: half fixed, half random, capped."""
    delay = min(cap_s, base_s * 2.0 ** max(0, deliveries - 1))
    return delay / 2 + random.uniform(0, delay / 2)


@dataclass(slots=True, eq=False)
class Outcomes:
    """Admission of entries and what happens to each after the model (see the module
    docstring). Owned by ``Worker``; it puts runnable items on ``pending`` and settles
    each entry's hold in ``in_flight`` once its outcome is handled."""

    settings: WorkerSettings
    queue: JobQueue
    sender: CallbackSender
    in_flight: InFlight
    pending: asyncio.Queue[Item | None]
    stopping: asyncio.Event
    progress: ProgressReporter | None = None
    _acker: Acker[Item] = field(init=False, repr=False)
    _callbacks: set[asyncio.Task[None]] = field(init=False, repr=False, default_factory=set)
    # Entries waiting out a retry backoff (pending, lease not renewed, slot held).
    _retries: dict[str, tuple[asyncio.Task[None], Hold]] = field(
        init=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._acker = Acker(self.ack_items)

    def stop(self) -> None:
        """Stopping: entries waiting out a backoff stay pending for another worker."""
        for task, _ in self._retries.values():
            task.cancel()

    async def finish(self) -> None:
        """Wait for every outcome being handled."""
        if self._callbacks:
            await asyncio.gather(*self._callbacks)

    async def cancel(self) -> None:
        """Cancel the outcomes being handled and the retries waiting."""
        retries = [task for task, _ in self._retries.values()]
        for task in [*self._callbacks, *retries]:
            task.cancel()
        await asyncio.gather(*retries, return_exceptions=True)

    def spawn(self, hold: Hold, work: Awaitable[bool]) -> None:
        """Run ``work`` for one entry; its slot is freed after, unless it was handed on
        to a retry (``work`` returned True)."""

        async def settle() -> None:
            kept = False
            try:
                kept = await work
            except Exception:
                log.exception("handling entry %s failed; it stays pending", hold.entry_id)
            finally:
                if not kept:
                    self.in_flight.done(hold)

        task = asyncio.create_task(settle())
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def admit(
        self, entries: list[tuple[StreamEntry, Hold]], stored: dict[str, str] | None = None
    ) -> None:
        """Queue valid entries for the model (each with the hold of its slot); an entry
        whose result is ``stored`` (taskId -> callback JSON) is re-sent unrun."""
        for entry, hold in entries:
            retrying = self._retries.pop(entry.id, None)
            if retrying is not None:
                # Our own XAUTOCLAIM got it first (that was the new delivery): its
                # retry timer must not claim it again; the timer's slot is freed.
                task, held_by_retry = retrying
                task.cancel()
                held_by_retry.release()
            self.in_flight.mark([entry.id])
            try:
                job = parse_job(entry.fields)
            except ValidationError as exc:
                self.spawn(hold, self._malformed(entry, exc))
                continue
            item = Item(entry.id, job, hold, entry.fields.get(tracing.TRACEPARENT))
            if not self._resend_stored(item, (stored or {}).get(job.taskId)):
                self.pending.put_nowait(item)

    def _resend_stored(self, item: Item, body: str | None) -> bool:
        """Deliver the result an earlier run of this job stored; False if there is none
        for this job (a swept job has a new token: its old result would be refused)."""
        if body is None:
            return False
        try:
            result = CallbackResult.model_validate_json(body)
        except ValidationError:
            return False
        if result.job_token != item.job.job_token:
            return False
        log.info(
            "task %s: re-sending its stored result (no model run)",
            item.job.taskId, extra={"taskId": item.job.taskId},
        )  # fmt: skip
        self.spawn(item.hold, self.deliver(item, result))
        return True

    async def drop_cancelled(self, items: list[Item]) -> list[Item]:
        """The items whose task is still wanted; a cancelled task's job is acked unrun.
        Without an answer from Redis they all run: a cancelled task refuses the result."""
        try:
            cancelled = await self.queue.cancelled([item.job.taskId for item in items])
        except RedisError as exc:
            log.warning("reading cancellations failed (%s); running the batch", exc)
            return items
        for item in items:
            if item.job.taskId in cancelled:
                log.info(
                    "task %s: cancelled by its owner, skipped",
                    item.job.taskId, extra={"taskId": item.job.taskId},
                )  # fmt: skip
                self.spawn(item.hold, self._skip(item))
        return [item for item in items if item.job.taskId not in cancelled]

    async def _skip(self, item: Item) -> bool:
        await self._ack_quietly(item)
        return False

    async def stored_results(self, task_ids: list[str]) -> dict[str, str]:
        try:
            return await self.queue.stored_results(task_ids)
        except RedisError as exc:
            log.warning("reading stored results failed (%s); running the model", exc)
            return {}

    async def store_results(self, results: list[CallbackResult]) -> None:
        """Keep computed results until acked. Best effort: without them a crash before
        the callback costs a model run, never a result."""
        bodies = {r.taskId: r.model_dump_json(exclude_none=True).encode() for r in results}
        try:
            await self.queue.store_results(bodies, self.settings.result_ttl_s)
        except RedisError as exc:
            log.warning("storing %d results failed (%s); delivering anyway", len(bodies), exc)

    async def ack_items(self, *items: Item) -> int:
        """The acker's flush: ack the entries and drop their stored results together."""
        return await self.queue.ack(
            *(i.entry_id for i in items), task_ids=[i.job.taskId for i in items]
        )

    async def _ack_quietly(self, item: Item) -> None:
        # Finished: stop renewing its lease, or the refresh that races the ack would
        # report the acked entry as a lease lost to another worker.
        self.in_flight.unmark(item.entry_id)
        try:
            await self._acker.ack(item)
        except RedisError as exc:
            # Still pending: it comes back after a lease and is acked then.
            log.warning("could not ack entry %s (%s)", item.entry_id, exc)

    async def _post(self, url: str, body: CallbackResult | CallbackFailure) -> Delivery:
        return await self.sender.send(url, body)

    # -- outcomes (each returns True when a retry now holds the entry's slot) -----------

    async def deliver(self, item: Item, result: CallbackResult) -> bool:
        outcome = await self._post(item.job.callback_url, result)
        if outcome is Delivery.ACCEPTED:
            WORKER_JOBS.labels("done").inc()
            await self._ack_quietly(item)
        elif outcome is Delivery.REJECTED:
            # Sending the same result again cannot change a 4xx (bad signature, unknown
            # task, stale token, conflict): fail the task and dead-letter the job now.
            error = "the result receiver refused the result with a 4xx"
            return await self.attempt_failed(item, "WK-CALLBACK-REFUSED", error, final=True)
        else:
            log.warning(
                "task %s: receiver unreachable; entry stays pending",
                item.job.taskId, extra={"taskId": item.job.taskId},
            )  # fmt: skip
        return False

    async def input_failed(self, item: Item, code: str, message: str) -> bool:
        """Bad input: fail the task now; no model call and no retry."""
        log.info(
            "task %s: %s (%s)", item.job.taskId, code, message, extra={"taskId": item.job.taskId}
        )
        failure = failure_for(item.job, code, message, worker_id=self.settings.consumer)
        outcome = await self._post(item.job.callback_url, failure)
        if outcome is Delivery.ACCEPTED:
            WORKER_JOBS.labels("failed").inc()
            await self._ack_quietly(item)
        elif outcome is Delivery.REJECTED:
            await self._dead_letter(item.entry_id, code, message, outcome, item.job.taskId)
        return False

    async def attempt_failed(
        self, item: Item, code: str, error: str, *, final: bool = False
    ) -> bool:
        """One failed attempt: retry after a backoff, or give up after max_attempts (or
        at once when ``final``)."""
        s = self.settings
        owner = await self.queue.deliveries(item.entry_id)
        if owner is None or owner[0] != s.consumer:
            log.warning(
                "task %s: entry no longer ours; its new owner retries",
                item.job.taskId, extra={"taskId": item.job.taskId},
            )  # fmt: skip
            return False
        deliveries = owner[1]
        attempt = {
            "attempt": deliveries,
            "worker": s.consumer,
            "errorCode": code,
            "error": error,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        await self.queue.record_attempt(item.entry_id, attempt)
        if deliveries < s.max_attempts and not final:
            delay = retry_delay(deliveries, s.retry_backoff_s, s.retry_backoff_max_s)
            log.warning(
                "task %s: attempt %d/%d failed (%s); retry in %.2fs",
                item.job.taskId, deliveries, s.max_attempts, code, delay,
                extra={"taskId": item.job.taskId},
            )  # fmt: skip
            if self.progress is not None:
                self.progress.retried(item, deliveries, code)
            return self._retry_later(item, delay)
        message = _GIVE_UP_MESSAGES.get(code, "The task failed {n} times; giving up.")
        failure = failure_for(item.job, code, message.format(n=deliveries), worker_id=s.consumer)
        outcome = await self._post(item.job.callback_url, failure)
        if outcome is Delivery.FAILED:
            # Dead-lettering now would leave the task queued forever: keep it pending,
            # so the next delivery (also past max_attempts) tries the callback again.
            log.warning(
                "task %s: failure not delivered; entry stays pending",
                item.job.taskId, extra={"taskId": item.job.taskId},
            )  # fmt: skip
            return False
        if outcome is Delivery.ACCEPTED:
            WORKER_JOBS.labels("failed").inc()
        await self._dead_letter(item.entry_id, code, error, outcome, item.job.taskId)
        return False

    async def admit_reclaimed(self, entries: list[tuple[StreamEntry, Hold]]) -> None:
        """Like ``admit``, but an entry delivered more than ``max_deliveries`` times is
        dead-lettered instead of run: each of its runs ended with its worker gone."""
        # Ours from now on, before the first await: the lease task's XAUTOCLAIM and the
        # recovery of our own pending list can return the same entry, and each skips
        # what is in flight already; two admissions would run the model twice.
        self.in_flight.mark(e.id for e, _ in entries)
        WORKER_JOBS.labels("reclaimed").inc(len(entries))
        counts = await self.queue.delivery_counts([e.id for e, _ in entries])
        limit = self.settings.max_deliveries
        poison = [(e, hold) for e, hold in entries if counts.get(e.id, 0) > limit]
        for entry, hold in poison:
            self.in_flight.mark([entry.id])
            self.spawn(hold, self._worker_lost(entry, counts[entry.id]))
        runnable = [(e, hold) for e, hold in entries if counts.get(e.id, 0) <= limit]
        stored = await self.stored_results([e.fields.get("taskId", "") for e, _ in runnable])
        await self.admit(runnable, stored)

    async def _worker_lost(self, entry: StreamEntry, deliveries: int) -> bool:
        try:
            job = parse_job(entry.fields)
        except ValidationError as exc:
            return await self._malformed(entry, exc)
        code = "WK-WORKER-LOST"
        error = f"delivered {deliveries} times; no worker ever finished it"
        log.error(
            "task %s: %s; dead-lettering it without another run",
            job.taskId, error, extra={"taskId": job.taskId},
        )  # fmt: skip
        await self.queue.record_attempt(
            entry.id,
            {"attempt": deliveries, "worker": self.settings.consumer, "errorCode": code,
             "error": error, "at": datetime.now(UTC).isoformat(timespec="milliseconds")},
        )  # fmt: skip
        message = "The task stopped its worker every time it was run; giving up."
        failure = failure_for(job, code, message, worker_id=self.settings.consumer)
        outcome = await self._post(job.callback_url, failure)
        if outcome is Delivery.FAILED:
            return False  # stays pending: the next taker tries the callback again
        if outcome is Delivery.ACCEPTED:
            WORKER_JOBS.labels("failed").inc()
        await self._dead_letter(entry.id, code, error, outcome, job.taskId)
        return False

    async def _malformed(self, entry: StreamEntry, exc: ValidationError) -> bool:
        """An entry that is not a job: straight to the DLQ (failing its task if we can)."""
        problems = exc.errors(include_url=False, include_input=False)
        error = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in problems)
        code, message = "WK-JOB-MALFORMED", "The job could not be read by the worker."
        outcome = None
        try:
            failure = failure_for(entry.fields, code, message, worker_id=self.settings.consumer)
            url = entry.fields["callback_url"]
            if not url.startswith(("http://", "https://")):
                raise ValueError(url)
        except (KeyError, ValueError):
            pass  # no task to fail: nobody could verify the failure
        else:
            outcome = await self._post(url, failure)
            if outcome is Delivery.FAILED:
                return False
        await self._dead_letter(
            entry.id, code, f"malformed entry: {error}", outcome, entry.fields.get("taskId", "")
        )
        return False

    async def _dead_letter(
        self, entry_id: str, code: str, error: str, callback: Delivery | None, task_id: str
    ) -> None:
        told = "no-task" if callback is None else callback.value
        self.in_flight.unmark(entry_id)  # as in _ack_quietly
        moved = await self.queue.dead_letter(entry_id, code, error, told, task_id)
        if moved is None:
            log.warning("entry %s was no longer ours; not dead-lettered", entry_id)
            return
        WORKER_JOBS.labels("dead_lettered").inc()
        log.error(
            "entry %s dead-lettered as %s after %d deliveries (%s); failure callback: %s",
            entry_id, moved[0], moved[1], code, told, extra={"taskId": task_id or None},
        )  # fmt: skip

    # -- retries -----------------------------------------------------------------------

    def _retry_later(self, item: Item, delay_s: float) -> bool:
        """Stop renewing the lease and claim the entry again after ``delay_s``."""
        self.in_flight.unmark(item.entry_id)
        if self.stopping.is_set():
            return False  # pending and idle: another worker's XAUTOCLAIM retries it
        WORKER_JOBS.labels("retried").inc()
        task = asyncio.create_task(self._retry(item, delay_s))
        self._retries[item.entry_id] = (task, item.hold)
        return True

    async def _retry(self, item: Item, delay_s: float) -> None:
        requeued = False
        try:
            await asyncio.sleep(delay_s)
            if self.stopping.is_set():
                return
            claimed = await self.queue.retry_claim(item.entry_id)
            if claimed is None:
                log.info(
                    "task %s: taken over by another worker for its retry",
                    item.job.taskId, extra={"taskId": item.job.taskId},
                )  # fmt: skip
                return
            if self.stopping.is_set():
                return
            self.in_flight.mark([item.entry_id])
            stored = await self.stored_results([item.job.taskId])
            if not self._resend_stored(item, stored.get(item.job.taskId)):
                self.pending.put_nowait(item)
            requeued = True
        except RedisError as exc:
            log.warning(
                "task %s: retry claim failed (%s); lease reclaim retries",
                item.job.taskId, exc, extra={"taskId": item.job.taskId},
            )  # fmt: skip
        finally:
            retrying = self._retries.get(item.entry_id)
            if retrying is not None and retrying[0] is asyncio.current_task():
                del self._retries[item.entry_id]
                if not requeued:
                    item.hold.release()
