"""The worker loop: read jobs, judge them in batches, deliver results, ack.

Three concurrent parts share one bounded pool of in-flight entries:
- the reader blocks on XREADGROUP for new entries (never polls); when batches are long
  (``WORKER_PREFETCH_MAX_WAIT_MS``) it reads only while the model is free;
- the lease task keeps our in-flight entries fresh and takes over stale ones (XAUTOCLAIM;
  ``leases.py``);
- the judge task batches queued entries (up to ``batch_size`` or ``batch_wait_ms``), runs
  the model on its own thread, stores the results in Redis and posts them (batched per
  callback URL, ``callback.py``); an entry is acked only after the result receiver
  answered 2xx, and its stored result goes with the ack. A redelivered entry whose
  result is stored is re-sent without a model run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared import tracing
from shared.db import UNAVAILABLE as DB_UNAVAILABLE
from shared.metrics import WORKER_INFERENCE
from shared.redis_client import create_redis
from shared.runtime import freeze_startup_heap
from shared.schemas import CallbackResult

from .ai.knowledge import KnowledgeIndex
from .ai.language import LanguageGate
from .ai.passage_sync import DatabasePassages
from .ai.passages import PassageIndex
from .ai.sync import DatabaseKnowledge, executor_runner
from .attempts import Outcomes
from .callback import CallbackSender, create_callback_session, result_for
from .config import WorkerSettings
from .flow import drain, next_batch, top_up
from .health import WorkerHealth, observe_batch_start
from .inflight import InFlight
from .input_check import check_input
from .leases import Leases
from .model import Judge, ModelFailure, evidence_judge, judge_each, load_judge
from .progress import ProgressReporter
from .queue import JobQueue, StreamEntry
from .switch import wait_while_paused
from .traces import job_spans
from .types import Item

log = logging.getLogger(__name__)


class Worker:
    """One worker process: ``async with Worker(settings) as w: await w.run()``.

    The model is loaded and warmed up in ``__aenter__`` before the worker joins the
    group, so a worker never holds entries it cannot process yet. Its parts share the
    worker's ``InFlight`` slots and entries: ``Outcomes`` (admission, delivery,
    retries, dead letters; made there) and, while it runs, ``Leases`` (the lease task).
    """

    def __init__(self, settings: WorkerSettings, judge: Judge | None = None) -> None:
        self.settings = settings
        self._judge = judge
        self._languages = LanguageGate(settings.judged_languages, settings.langid_model)
        # One thread: one model instance, and batches never run concurrently on it.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="judge")
        self._stopping = asyncio.Event()
        self._in_flight = InFlight(settings.max_in_flight)
        self._pending: asyncio.Queue[Item | None] = asyncio.Queue()
        self._redis: aioredis.Redis | None = None
        self._reader: aioredis.Redis | None = None
        self._http: aiohttp.ClientSession | None = None
        self._sender: CallbackSender | None = None
        self._queue: JobQueue | None = None
        self._outcomes: Outcomes | None = None
        self._progress: ProgressReporter | None = None
        self._knowledge: DatabaseKnowledge | None = None
        self._passages: DatabasePassages | None = None
        self._read_call: asyncio.Future[list[StreamEntry]] | None = None
        # Set while the model is free and nothing waits for it: with long batches the
        # reader reads only then (``_read_loop``). Batch time: a moving average.
        self._model_free = asyncio.Event()
        self._model_free.set()
        self._want_work = asyncio.Event()
        self._batch_formed = False
        self._batch_s: float | None = None
        self.health = WorkerHealth(settings.lease_ms / 1000)

    @property
    def judge(self) -> Judge:
        assert self._judge is not None, "enter the worker first"
        return self._judge

    @property
    def queue(self) -> JobQueue:
        assert self._queue is not None, "enter the worker first"
        return self._queue

    @property
    def outcomes(self) -> Outcomes:
        assert self._outcomes is not None, "enter the worker first"
        return self._outcomes

    async def __aenter__(self) -> Worker:
        loop = asyncio.get_running_loop()
        if self._judge is None:
            self._judge = await loop.run_in_executor(self._executor, load_judge, self.settings)
        # The language identifier too, off the event loop (~0.2 s the first time).
        await loop.run_in_executor(self._executor, self._languages.read, "")
        await self._load_knowledge()
        s = self.settings
        self._redis = create_redis(s.redis_url, "worker")
        self._reader = create_redis(
            s.redis_url, "worker-reader", socket_timeout=s.block_ms / 1000 + 10, max_connections=4
        )
        self._http = create_callback_session(s.callback_timeout_s)
        self._sender = CallbackSender(
            self._http,
            s.callback_secret.get_secret_value().encode(),
            attempts=s.callback_attempts,
            backoff_s=s.callback_backoff_s,
            max_items=s.callback_batch_size,
            concurrency=s.callback_concurrency,
        )
        self._queue = JobQueue(self._redis, s.consumer, reader=self._reader)
        self._progress = ProgressReporter(
            self._sender, self._queue, s.consumer, after_s=s.progress_after_s
        )
        self._outcomes = Outcomes(
            s,
            self._queue,
            self._sender,
            self._in_flight,
            self._pending,
            self._stopping,
            self._progress,
        )
        try:
            await self._join_when_redis_answers()
        except BaseException:
            await self._close()
            raise
        return self

    async def _join_when_redis_answers(self) -> None:
        """Create the consumer group, waiting for Redis as long as it takes: a worker
        started before Redis (a host reboot, compose ordering) joins once it answers
        instead of exiting with a traceback."""
        assert self._queue is not None
        delay = 0.5
        while True:
            try:
                await self._queue.ensure_group()
                return
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("Redis does not answer (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _load_knowledge(self) -> None:
        """Load the knowledge base from PostgreSQL before joining the group: a worker
        without its evidence would hand out Insufficient verdicts that then get cached."""
        judge = evidence_judge(self.judge)
        if self.settings.knowledge_base != "postgres" or judge is None:
            return

        def install(index: KnowledgeIndex) -> None:
            judge.index = index

        def install_passages(index: PassageIndex) -> None:
            judge.passages = index

        run_model = executor_runner(self._executor)
        db, mode = self.settings.database_url, self.settings.database_pool_mode
        self._knowledge = DatabaseKnowledge(db, judge.encoder, install, run_model, pool_mode=mode)
        if self.settings.passages and not self.settings.evidence_docs:
            self._passages = DatabasePassages(
                db, judge.encoder, install_passages, run_model, pool_mode=mode,
                exact_below=self.settings.passage_exact_below,
            )  # fmt: skip
        delay = 0.5
        while True:
            try:
                await self._knowledge.refresh()
                if self._passages is not None:
                    await self._passages.refresh()
                return
            except (*DB_UNAVAILABLE, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("loading the knowledge base failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _knowledge_loop(self) -> None:
        assert self._knowledge is not None
        while True:
            await asyncio.sleep(self.settings.kb_refresh_s)
            try:
                await self._knowledge.refresh()
                if self._passages is not None:
                    await self._passages.refresh()
            except (*DB_UNAVAILABLE, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("refreshing the knowledge base failed (%s); keeping the old", exc)

    async def __aexit__(self, *exc_info: object) -> None:
        await self._close()

    async def _close(self) -> None:
        if self._progress is not None:
            await self._progress.close()
        if self._sender is not None:
            await self._sender.close()
        if self._http is not None:
            await self._http.close()
        for client in (self._redis, self._reader):
            if client is not None:
                await client.aclose()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """Stop reading; ``run`` returns once in-flight entries are finished (or drained)."""
        self._stopping.set()
        self._want_work.set()  # wakes a reader waiting for the model
        self._in_flight.close()
        if self._read_call is not None:
            self._read_call.cancel()  # do not wait out WORKER_BLOCK_MS
        if self._outcomes is not None:
            self._outcomes.stop()  # waiting retries stay pending for another worker

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def run(self) -> None:
        """Process jobs until ``stop()``; then finish what is in flight and return."""
        s = self.settings
        log.info(
            "worker %s reading %s as group %s (model %s, batch %d/%d ms, lease %d ms)",
            s.consumer, self.queue.stream, self.queue.group, self.judge.name,
            s.batch_size, s.batch_wait_ms, s.lease_ms,
        )  # fmt: skip
        leases = Leases(
            s,
            self.queue,
            self._in_flight,
            self.outcomes,
            self._stopping,
            self._can_start_now,
            self.health,
        )
        freeze_startup_heap()  # the model and the knowledge index live as long as we do
        self.health.joined()
        async with asyncio.TaskGroup() as tg:
            beat = tg.create_task(self.health.beat(), name="worker-heartbeat")
            lease = tg.create_task(leases.run(), name="worker-lease")
            work = tg.create_task(self._judge_loop(), name="worker-judge")
            if self._knowledge is not None:
                knowledge = tg.create_task(self._knowledge_loop(), name="worker-knowledge")
            await self._read_loop()
            # Stopping: what has not reached the model yet goes back to the group now.
            waiting = drain(self._pending)
            self._pending.put_nowait(None)
            await leases.hand_back([item.entry_id for item in waiting])
            try:
                async with asyncio.timeout(self.settings.drain_timeout_s):
                    await work
            except TimeoutError:
                log.warning("drain timed out after %.0fs", self.settings.drain_timeout_s)
                await leases.hand_back(self._in_flight.ids())
            lease.cancel()
            beat.cancel()
            if self._knowledge is not None:
                knowledge.cancel()
        log.info("worker %s stopped", self.settings.consumer)

    # -- reader ----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        await self._recover_own_pending()
        s = self.settings
        # The blocking read holds the slots it asks for; leave half of them to the lease
        # task, so an idle worker can still take over a dead worker's entries at once.
        most = min(s.batch_size, max(1, s.max_in_flight // 2))
        while not self._stopping.is_set():
            if self._long_batches():
                # An entry read now would wait out the running batch, while an idle
                # worker could start it: read only when the model asks for work.
                await self._want_work.wait()
                if self._stopping.is_set():
                    break
            await wait_while_paused(self.queue.client, self._stopping)
            if self._stopping.is_set():
                break
            taken = await self._in_flight.take(most)
            if not taken:
                break
            self._read_call = asyncio.ensure_future(self.queue.read_new(taken.count, s.block_ms))
            try:
                entries = await self._read_call
            except asyncio.CancelledError:
                if not self._stopping.is_set():
                    raise
                # stop() cut the blocking read short. Anything Redis delivered in that
                # instant stays pending under our name: another worker's XAUTOCLAIM (or
                # our own restart) picks it up, so nothing is lost.
                taken.release()
                break
            except RedisError as exc:
                taken.release()
                log.warning("reading the job stream failed (%s); retrying in 1s", exc)
                await self._sleep_unless_stopping(1.0)
                continue
            finally:
                self._read_call = None
            held = taken.hold(entries)
            if entries:
                self._want_work.clear()  # the model has work; asked again when free
            await self.outcomes.admit(held)

    def _long_batches(self) -> bool:
        """Recent batches took longer than WORKER_PREFETCH_MAX_WAIT_MS (none yet: no)."""
        limit_s = self.settings.prefetch_max_wait_ms / 1000
        return self._batch_s is not None and self._batch_s > limit_s

    def _can_start_now(self) -> bool:
        return not self._long_batches() or self._want_work.is_set()

    def _offer_work(self) -> None:
        if self._model_free.is_set() and self._pending.empty() and not self._batch_formed:
            self._want_work.set()

    async def _recover_own_pending(self) -> None:
        """Entries a previous process with our consumer name received but never acked."""
        after = "0"
        while True:
            taken = await self._in_flight.take(self.settings.batch_size)
            if not taken:
                return
            entries = await self.queue.read_own_pending(taken.count, after)
            # The lease task runs meanwhile: what its XAUTOCLAIM gave us is in our
            # pending list too, and already admitted.
            fresh = taken.hold([e for e in entries if e.id not in self._in_flight])
            if not entries:
                return
            after = entries[-1].id
            if fresh:
                log.info("resuming %d entries left pending by a previous run", len(fresh))
                await self.outcomes.admit_reclaimed(fresh)

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stopping.wait()
        except TimeoutError:
            pass

    # -- model and delivery ----------------------------------------------------------

    async def _judge_loop(self) -> None:
        s = self.settings
        # While the model runs one batch, the next one is formed and keeps filling until
        # the model is free (or it is full): the model never waits out a batch window,
        # and batches stay as full as the queue allows.
        model_idle = self._model_free
        runs: set[asyncio.Task[None]] = set()
        try:
            while True:
                self._offer_work()
                batch = await next_batch(self._pending, s.batch_size, s.batch_wait_ms / 1000)
                if batch is None:
                    break
                runnable = self._runnable(batch)
                more: list[Item] = []
                ended = not await top_up(self._pending, more, s.batch_size - len(batch), model_idle)
                runnable += self._runnable(more)
                if ended:
                    self._pending.put_nowait(None)  # seen while topping up: end after this
                if not runnable:
                    continue
                self._batch_formed = True  # the model has work as soon as it is free
                await model_idle.wait()
                # Last look before the model starts: a job cancelled meanwhile is skipped.
                runnable = await self.outcomes.drop_cancelled(runnable)
                self._batch_formed = False
                if not runnable:
                    continue
                model_idle.clear()
                self._want_work.clear()
                run = asyncio.create_task(self._run_batch(runnable, model_idle))
                runs.add(run)
                run.add_done_callback(runs.discard)
            if runs:
                await asyncio.gather(*runs)
            await self.outcomes.finish()
        finally:
            for task in runs:
                task.cancel()
            await self.outcomes.cancel()

    def _runnable(self, items: list[Item]) -> list[Item]:
        """The items the model can judge; bad input is failed at once."""
        runnable = []
        for item in items:
            problem = check_input(item.job.payload, self.settings.max_text_chars, self._languages)
            if problem is None:
                runnable.append(item)
            else:
                self.outcomes.spawn(item.hold, self.outcomes.input_failed(item, *problem))
        return runnable

    async def _run_batch(self, items: list[Item], model_idle: asyncio.Event) -> None:
        """Judge one batch on the model thread, store the results, then hand each
        outcome to delivery."""
        s = self.settings
        try:
            loop = asyncio.get_running_loop()
            texts = [item.job.payload for item in items]
            observe_batch_start(items)
            report = self._progress.started(items) if self._progress is not None else None
            started, started_ns = loop.time(), time.time_ns()
            with tracing.span("judge batch", attributes={"batch.size": len(items)}) as batch:
                verdicts = await loop.run_in_executor(self._executor, judge_each, self.judge, texts)
            traces = job_spans(items, batch, started_ns)
            if report is not None:
                report.cancel()  # finished before it was worth reporting: nothing sent
            took = loop.time() - started
            WORKER_INFERENCE.observe(took)
            self._batch_s = took if self._batch_s is None else 0.7 * self._batch_s + 0.3 * took
        finally:
            model_idle.set()
            self._offer_work()
        results: dict[str, CallbackResult] = {}
        for item, verdict in zip(items, verdicts, strict=True):
            if not isinstance(verdict, ModelFailure):
                results[item.entry_id] = result_for(
                    item.job,
                    verdict,
                    model=self.judge.name,
                    worker_id=s.consumer,
                    traceparent=traces.get(item.entry_id),
                )
        outcomes = self.outcomes
        await outcomes.store_results(list(results.values()))
        for item, verdict in zip(items, verdicts, strict=True):
            if isinstance(verdict, ModelFailure):
                work = outcomes.attempt_failed(item, verdict.code, verdict.error)
            else:
                work = outcomes.deliver(item, results[item.entry_id])
            outcomes.spawn(item.hold, work)
