"""The worker loop end to end: real Redis, a real HTTP receiver, the tiny model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from shared import keys
from shared.schemas import CallbackResult
from worker.config import WorkerSettings
from worker.model import Judge
from worker.queue import JobQueue
from worker.runner import Worker

from .helpers import (
    CallbackServer,
    RecordingJudge,
    dlq_entries,
    enqueue,
    eventually,
    is_true,
    left_by_a_dead_worker,
    make_job,
    pending_count,
    redis_client,
    running,
)

Settings = Callable[..., WorkerSettings]

TEXTS = [
    "Water boils at 100 degrees Celsius at sea level.",
    "I think pineapple pizza is the best food",
    "The moon landing was faked in a studio.",
    "Someone said something happened yesterday.",
    "Bitcoin will be worth a million dollars next year.",
    "Paris is the capital of France.",
    "In my opinion summer is the most beautiful season.",
    "   ",
    "ok",
    "Vaccines cause autism is a debunked claim.",
]


async def test_jobs_are_judged_delivered_and_acked(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    settings = make_settings(batch_size=4)
    jobs = [make_job(t, callback_server.url) for t in TEXTS]
    await enqueue(settings, jobs)  # before the group exists: still delivered
    async with running(settings, tiny_judge):

        async def all_acked() -> bool:
            answered = len(callback_server.received) + len(callback_server.failures)
            return answered == len(jobs) and not await pending_count(settings)

        await eventually(all_acked)
    results = callback_server.by_task()
    assert callback_server.bad_signatures == 0
    (blank,) = [j for j in jobs if not j.payload.strip()]
    assert [(f.taskId, f.errorCode) for f in callback_server.failures] == [
        (blank.taskId, "WK-INPUT-EMPTY")
    ]
    for job in jobs:
        if job is blank:
            continue
        # Each job got its own verdict, as if it had been judged alone.
        (alone,) = tiny_judge.judge([job.payload])
        got = results[job.taskId]
        assert got.job_token == job.job_token
        assert got.mark == alone.mark
        assert abs(got.confidence - alone.confidence) <= 1
        assert got.model == tiny_judge.name
        assert got.workerId == settings.consumer


async def test_dynamic_batches_are_bounded(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    judge = RecordingJudge(tiny_judge)
    settings = make_settings(batch_size=8, batch_wait_ms=50)
    jobs = [make_job(f"claim number {i} about the world", callback_server.url) for i in range(20)]
    await enqueue(settings, jobs)
    async with running(settings, judge):

        async def done() -> bool:
            return len(callback_server.received) == len(jobs)

        await eventually(done)
    sizes = [len(b) for b in judge.batches]
    assert sum(sizes) == 20
    assert max(sizes) == 8
    assert sorted(t for b in judge.batches for t in b) == sorted(j.payload for j in jobs)


async def test_the_next_batch_is_formed_while_the_model_runs(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """The batch window of the next batch passes while the current one runs, so the
    model starts it at once instead of idling for ``batch_wait_ms`` in between."""
    judge = RecordingJudge(tiny_judge, delay_s=1.0)
    settings = make_settings(batch_size=4, batch_wait_ms=500, max_in_flight=16)
    first = [make_job(f"first batch claim {i} here", callback_server.url) for i in range(4)]
    late = [make_job(f"late claim {i} here", callback_server.url) for i in range(2)]
    await enqueue(settings, first)
    async with running(settings, judge):

        async def first_running() -> bool:
            return len(judge.batches) == 1

        await eventually(first_running)
        await enqueue(settings, late)  # a half-full batch, arriving mid-run

        async def done() -> bool:
            return len(callback_server.received) == len(first) + len(late)

        await eventually(done)
    assert [len(b) for b in judge.batches] == [4, 2]
    (_, first_end), (second_start, _) = judge.runs
    assert second_start - first_end < 0.25  # not the 0.5 s window after the first


async def test_rejected_result_is_dead_lettered_at_once(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [403] * 2  # the result, then the failure: both refused
    settings = make_settings(max_attempts=3, retry_backoff_s=0.02)
    (entry_id,) = await enqueue(settings, [make_job(TEXTS[0], callback_server.url)])
    judge = RecordingJudge(tiny_judge)
    async with running(settings, judge) as worker:

        async def dead_lettered() -> bool:
            return worker.in_flight == 0 and bool(await dlq_entries(settings))

        await eventually(dead_lettered)
        await asyncio.sleep(0.2)
        assert len(callback_server.delivery_ids) == 2  # no retry of a 4xx
        assert await pending_count(settings) == 0
    assert len(judge.batches) == 1
    (dead,) = await dlq_entries(settings)
    assert dead["sourceId"] == entry_id and dead["errorCode"] == "WK-CALLBACK-REFUSED"
    assert dead["deliveries"] == "1" and dead["failureCallback"] == "rejected"


async def test_a_refused_result_fails_its_task(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """The receiver refused the verdict (say, as invalid) but takes the failure: the
    user is told, and the job goes to the DLQ."""
    callback_server.statuses = [422]
    settings = make_settings()
    job = make_job(TEXTS[0], callback_server.url)
    await enqueue(settings, [job])
    async with running(settings, tiny_judge):
        await eventually(lambda: is_true(len(callback_server.failures) == 1))
    (failure,) = callback_server.failures
    assert (failure.taskId, failure.errorCode) == (job.taskId, "WK-CALLBACK-REFUSED")
    (dead,) = await dlq_entries(settings)
    assert dead["failureCallback"] == "accepted"


async def test_transient_failure_is_retried_then_acked(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    callback_server.statuses = [503, 502]
    settings = make_settings()
    await enqueue(settings, [make_job(TEXTS[1], callback_server.url)])
    async with running(settings, tiny_judge):

        async def acked() -> bool:
            return len(callback_server.received) == 1 and not await pending_count(settings)

        await eventually(acked)
    assert len(callback_server.delivery_ids) == 3


async def test_malformed_entry_is_dead_lettered_without_a_callback(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    settings = make_settings()
    good = make_job(TEXTS[2], callback_server.url)
    client = await redis_client(settings)
    await client.xadd(keys.JOB_STREAM, {"taskId": "t1", "payload": "no token, no url"})
    await client.aclose()
    # Fields a newer producer adds (tracing, attempt count) do not make a job malformed.
    await enqueue(settings, [good], traceparent="00-abc-def-01", attempt="1")
    async with running(settings, tiny_judge):

        async def acked() -> bool:
            return len(callback_server.received) == 1 and not await pending_count(settings)

        await eventually(acked)
    assert list(callback_server.by_task()) == [good.taskId]
    # The malformed one went straight to the DLQ; with no job_token, no task to fail.
    (dead,) = await dlq_entries(settings)
    assert dead["errorCode"] == "WK-JOB-MALFORMED" and dead["failureCallback"] == "no-task"
    assert dead["taskId"] == "t1" and dead["deliveries"] == "1"
    assert callback_server.failures == []


async def test_stale_entry_of_a_dead_worker_is_taken_over(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    settings = make_settings(lease_ms=300)
    job = make_job(TEXTS[3], callback_server.url)
    client = await left_by_a_dead_worker(settings, [job])
    async with running(settings, tiny_judge):

        async def taken_over() -> bool:
            return len(callback_server.received) == 1 and not await pending_count(settings)

        await eventually(taken_over)
    await client.aclose()
    assert callback_server.received[0].taskId == job.taskId


async def test_an_idle_worker_takes_over_while_its_read_blocks(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """Few slots, a long blocking read: the lease task still finds a slot to claim with."""
    settings = make_settings(lease_ms=300, max_in_flight=2, batch_size=4, block_ms=20_000)
    job = make_job(TEXTS[3], callback_server.url)
    client = await left_by_a_dead_worker(settings, [job])
    async with running(settings, tiny_judge):

        async def taken_over() -> bool:
            return len(callback_server.received) == 1

        await eventually(taken_over, timeout_s=5)  # far less than one blocking read
    await client.aclose()


async def test_a_busy_worker_takes_over_ahead_of_its_backlog(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """Every slot busy and a backlog behind: the dead worker's entry gets the next freed
    slot after its lease ran out, not a slot after the whole backlog."""
    settings = make_settings(lease_ms=600, max_in_flight=2, batch_size=1, batch_wait_ms=0)
    stale = make_job(TEXTS[3], callback_server.url)
    client = await left_by_a_dead_worker(settings, [stale])
    backlog = [
        make_job(f"Backlog claim number {i} is true.", callback_server.url) for i in range(40)
    ]
    await enqueue(settings, backlog)
    judge = RecordingJudge(tiny_judge, delay_s=0.15)  # 40 jobs: 6 s of backlog
    async with running(settings, judge):

        async def stale_done() -> bool:
            return stale.taskId in callback_server.by_task()

        await eventually(stale_done, timeout_s=15)
        order = [r.taskId for r in callback_server.received]
    await client.aclose()
    # Claimable after 0.6 s, taken at the next tick (0.2 s) into the next freed slot:
    # about the 6th result; without the priority slot it comes after the backlog (41st).
    assert order.index(stale.taskId) < 20, order.index(stale.taskId)


async def test_stop_does_not_wait_out_the_blocking_read(
    make_settings: Settings, tiny_judge: Judge
) -> None:
    settings = make_settings(block_ms=30_000)
    async with Worker(settings, tiny_judge) as worker:
        task = asyncio.create_task(worker.run())
        await asyncio.sleep(0.3)  # the reader is now blocked in XREADGROUP
        started = time.monotonic()
        worker.stop()
        await asyncio.wait_for(task, 10)
        assert time.monotonic() - started < 2


async def test_an_entry_that_keeps_losing_its_worker_is_dead_lettered_unrun(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """A poison pill (a job that kills its worker process) is not run a 5th time."""
    settings = make_settings(lease_ms=300, max_deliveries=3)
    poison, fine = (make_job(t, callback_server.url) for t in TEXTS[3:5])
    ids = await enqueue(settings, [poison, fine])
    client = await redis_client(settings)
    first = JobQueue(client, "dead-worker-1")
    await first.ensure_group()
    assert len(await first.read_new(1, block_ms=100)) == 1  # delivery 1: the poison
    for n in range(2, 5):  # deliveries 2..4, each taker "crashing" at once
        await client.xclaim(keys.JOB_STREAM, keys.WORKER_GROUP, f"dead-worker-{n}", 0, [ids[0]])
    judge = RecordingJudge(tiny_judge)
    async with running(settings, judge):

        async def settled() -> bool:
            told = len(callback_server.received) + len(callback_server.failures)
            return told == 2 and not await pending_count(settings)

        await eventually(settled)
    await client.aclose()
    assert [t for batch in judge.batches for t in batch] == [fine.payload]
    (failure,) = callback_server.failures
    assert (failure.taskId, failure.errorCode) == (poison.taskId, "WK-WORKER-LOST")
    (dead,) = await dlq_entries(settings)
    assert dead["errorCode"] == "WK-WORKER-LOST" and dead["taskId"] == poison.taskId


async def test_a_live_long_job_keeps_its_lease(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    settings = make_settings(lease_ms=300)
    judge = RecordingJudge(tiny_judge, delay_s=1.2)  # four leases long
    await enqueue(settings, [make_job(TEXTS[4], callback_server.url)])
    client = await redis_client(settings)
    rival = JobQueue(client, "rival")
    async with running(settings, judge) as worker:
        await eventually(lambda: is_true(worker.in_flight == 1))
        stolen = []
        while not callback_server.received:
            stolen += await rival.claim_stale(min_idle_ms=300, limit=10)
            await asyncio.sleep(0.05)
    await client.aclose()
    assert stolen == []
    assert len(callback_server.received) == 1


async def test_stop_finishes_what_runs_and_hands_back_the_rest(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """SIGTERM: the batch on the model finishes; entries still waiting go back to the
    group at once, so another worker takes them now, not after a (here 60 s) lease."""
    settings = make_settings(batch_size=2, max_in_flight=8, lease_ms=60_000)
    judge = RecordingJudge(tiny_judge, delay_s=0.5)
    jobs = [make_job(f"claim {i} waiting for the model", callback_server.url) for i in range(6)]
    await enqueue(settings, jobs)
    async with Worker(settings, judge) as worker:
        task = asyncio.create_task(worker.run())
        await eventually(lambda: is_true(bool(judge.batches)))
        worker.stop()
        await asyncio.wait_for(task, 10)
        assert worker.in_flight == 0
    # What reached the model was finished and acked; nothing was left half-done.
    taken = sum(len(b) for b in judge.batches)
    assert 0 < taken < len(jobs)
    assert len(callback_server.received) == taken
    assert await pending_count(settings) == len(jobs) - taken
    started = time.monotonic()
    async with running(make_settings(lease_ms=60_000), tiny_judge):

        async def all_done() -> bool:
            return len(callback_server.received) == len(jobs)

        await eventually(all_done, timeout_s=10)
    assert time.monotonic() - started < 10  # far less than the 60 s lease
    assert sorted(callback_server.by_task()) == sorted(j.taskId for j in jobs)


async def test_two_workers_deliver_each_job_once(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    jobs = [make_job(f"statement {i} about science", callback_server.url) for i in range(24)]
    a = make_settings(batch_size=2, max_in_flight=4)
    b = make_settings(batch_size=2, max_in_flight=4)
    judge_a = RecordingJudge(tiny_judge, delay_s=0.02)
    judge_b = RecordingJudge(tiny_judge, delay_s=0.02)
    async with running(a, judge_a), running(b, judge_b):
        await enqueue(a, jobs)

        async def done() -> bool:
            return len(callback_server.received) == len(jobs) and not await pending_count(a)

        await eventually(done)
    ids = [r.taskId for r in callback_server.received]
    assert sorted(ids) == sorted(j.taskId for j in jobs)
    assert judge_a.batches and judge_b.batches  # both took part


async def test_a_stored_result_is_resent_without_a_model_run(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """The model ran, the callback could not be delivered, the worker went away: the
    next worker re-sends the stored result instead of running the model again."""
    job = make_job(TEXTS[5], callback_server.url)
    await enqueue(make_settings(), [job])
    callback_server.statuses = [503] * 2  # every attempt of the first worker
    first_judge = RecordingJudge(tiny_judge)
    first = make_settings(lease_ms=400, callback_attempts=2)
    async with running(first, first_judge):
        await eventually(lambda: is_true(len(callback_server.delivery_ids) == 2))
    assert len(first_judge.batches) == 1 and callback_server.received == []
    client = await redis_client(first)
    assert await client.exists(keys.worker_result(job.taskId)) == 1

    second_judge = RecordingJudge(tiny_judge)
    async with running(make_settings(lease_ms=400), second_judge):
        await eventually(lambda: is_true(len(callback_server.received) == 1))
        await eventually(lambda: _no_pending(first))
    assert second_judge.batches == []  # no second model run
    (result,) = callback_server.received
    (verdict,) = tiny_judge.judge([job.payload])
    assert (result.taskId, result.mark, result.workerId) == (
        job.taskId,
        verdict.mark,
        first.consumer,
    )
    assert await client.exists(keys.worker_result(job.taskId)) == 0  # dropped with the ack
    await client.aclose()


async def test_a_stored_result_of_an_older_token_is_not_reused(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """A swept task's new job has a new token: the old job's result would be refused."""
    settings = make_settings(lease_ms=400)
    job = make_job(TEXTS[5], callback_server.url)
    old = make_job(TEXTS[5], callback_server.url, taskId=job.taskId)
    client = await redis_client(settings)
    queue = JobQueue(client, "dead-worker")
    await queue.ensure_group()
    await enqueue(settings, [job])
    assert len(await queue.read_new(1, block_ms=100)) == 1  # then it "crashes"
    stale = CallbackResult(
        taskId=old.taskId, job_token=old.job_token, mark="Incorrect", reason="old", confidence=1
    )
    await queue.store_results({job.taskId: stale.model_dump_json().encode()}, 60)
    judge = RecordingJudge(tiny_judge)
    async with running(settings, judge):
        await eventually(lambda: is_true(len(callback_server.received) == 1))
    assert len(judge.batches) == 1
    assert callback_server.received[0].job_token == job.job_token
    await client.aclose()


async def _no_pending(settings: WorkerSettings) -> bool:
    return not await pending_count(settings)


async def test_a_restarted_worker_runs_its_own_stale_entries_once(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """On restart both the recovery of our own pending list and the lease task's
    XAUTOCLAIM see our stale entries; each must still run once."""
    settings = make_settings(lease_ms=100, batch_size=2)
    jobs = [make_job(f"Restart claim number {i} is true.", callback_server.url) for i in range(6)]
    await enqueue(settings, jobs)
    client = await redis_client(settings)
    previous = JobQueue(client, settings.consumer)  # the same name: a restart
    await previous.ensure_group()
    assert len(await previous.read_new(10, block_ms=100)) == 6
    await asyncio.sleep(0.2)  # past the lease
    judge = RecordingJudge(tiny_judge)
    async with running(settings, judge):
        await eventually(lambda: is_true(len(callback_server.received) == 6))
        await eventually(lambda: _no_pending(settings))
    await client.aclose()
    runs = [text for batch in judge.batches for text in batch]
    assert sorted(runs) == sorted(job.payload for job in jobs)


async def _keep_fresh(client: aioredis.Redis, consumer: str) -> None:
    """Act as a live ``consumer``: keep resetting the idle time of what it holds."""
    while True:
        held: Any = await client.xpending_range(
            keys.JOB_STREAM, keys.WORKER_GROUP, "-", "+", 100, consumername=consumer
        )
        ids = [row["message_id"] for row in held]
        if ids:
            await client.xclaim(keys.JOB_STREAM, keys.WORKER_GROUP, consumer, 0, ids, justid=True)
        await asyncio.sleep(0.05)


async def test_an_idle_worker_gets_the_stale_entry_before_a_busy_one(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """A busy worker (its model on a long job) must not take a dead worker's entry it
    cannot start while an idle worker could: the idle one gets it."""
    warm = make_job("A first long job shows this worker its batches are long.", callback_server.url)
    long_job = make_job("A long job keeps this worker busy.", callback_server.url)
    stale = make_job(TEXTS[3], callback_server.url)
    # Batches longer than WORKER_PREFETCH_MAX_WAIT_MS (known after the first): the busy
    # worker neither reads ahead nor takes over at its own lease (0.3 s), only entries
    # idle workers passed up (past 0.95 s); the idle worker takes them past 0.4 s.
    busy_settings = make_settings(
        lease_ms=300, max_in_flight=2, batch_size=1, block_ms=50, prefetch_max_wait_ms=300
    )
    client = await left_by_a_dead_worker(busy_settings, [stale])
    # The other worker lives (its entry stays fresh) until both workers are running and
    # the busy one is busy, then dies: the race under test starts only when the entry
    # goes stale. A worker's run() begins with a full collection (freeze_startup_heap),
    # which late in a test session blocks the shared event loop a while: the sleep
    # below ends after it.
    alive = asyncio.create_task(_keep_fresh(client, "dead-worker"))
    busy_judge = RecordingJudge(tiny_judge, delay_s=2.0)
    idle_judge = RecordingJudge(tiny_judge)
    async with running(busy_settings, busy_judge):
        await enqueue(busy_settings, [warm])
        await eventually(lambda: is_true(warm.taskId in callback_server.by_task()))
        await enqueue(busy_settings, [long_job])
        await eventually(lambda: is_true(len(busy_judge.batches) == 2))
        async with running(make_settings(lease_ms=400, batch_size=1), idle_judge):
            await asyncio.sleep(0.3)
            alive.cancel()
            await eventually(lambda: is_true(stale.taskId in callback_server.by_task()), 8)
    await client.aclose()
    assert [stale.payload] in idle_judge.batches
    assert busy_judge.batches == [[warm.payload], [long_job.payload]]


async def test_a_worker_on_long_batches_reads_only_when_its_model_is_free(
    make_settings: Settings, tiny_judge: Judge, callback_server: CallbackServer
) -> None:
    """Batches longer than WORKER_PREFETCH_MAX_WAIT_MS: a job that arrives while the model
    runs is left in the stream, and a worker that can start it now gets it."""
    slow_settings = make_settings(prefetch_max_wait_ms=300, batch_wait_ms=0, block_ms=2000)
    slow = RecordingJudge(tiny_judge, delay_s=1.0)
    warm, first, second = (
        make_job(f"Long batch claim number {i} is here.", callback_server.url) for i in range(3)
    )
    async with running(slow_settings, slow):
        await enqueue(slow_settings, [warm])  # one batch: now its batches are known long
        await eventually(lambda: is_true(len(callback_server.received) == 1))
        await enqueue(slow_settings, [first])
        await eventually(lambda: is_true(len(slow.batches) == 2))
        await enqueue(slow_settings, [second])  # while the slow model runs `first`
        await asyncio.sleep(0.2)
        idle = RecordingJudge(tiny_judge)
        async with running(make_settings(), idle):
            await eventually(lambda: is_true(len(callback_server.received) == 3))
    assert idle.batches == [[second.payload]]
    assert slow.batches == [[warm.payload], [first.payload]]
