"""Our side of bench/queue.py (main venv): a worker process and a producer.

``worker``: the equivalent of ``python -m worker`` (WorkerSettings from WORKER_* / REDIS_URL
env, SIGTERM/SIGINT drain) but with a stub judge instead of the embedding model:
BENCH_SLEEP_MS=0 returns a fixed Verdict at once; BENCH_SLEEP_MS=50 sleeps 50 ms once
per *batch* (our judge runs one batch at a time on one thread, so a batch of up to
WORKER_BATCH_SIZE texts sleeping 50 ms once stands for that many concurrent 50 ms jobs).

``produce N``: XADDs N jobs to stream:ai:jobs (pipelined, 200 per round trip) with the
callback URL in BENCH_CALLBACK_URL; prints {"t0": first-enqueue time, "t1": last}.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported at run time once ROOT is on sys.path
    from shared.schemas import Verdict

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


class StubJudge:
    """A Judge returning one fixed verdict per text, after ``sleep_s`` per batch."""

    name = "bench-stub"

    def __init__(self, sleep_s: float) -> None:
        from shared.schemas import Mark, Verdict

        self.sleep_s = sleep_s
        self.batches = 0
        self.items = 0
        self.verdict = Verdict(mark=Mark.CORRECT, reason="bench stub verdict", confidence=90)

    def judge(self, texts: list[str]) -> list[Verdict]:
        self.batches += 1
        self.items += len(texts)
        if self.sleep_s:
            time.sleep(self.sleep_s)
        return [self.verdict] * len(texts)


async def run_worker() -> None:
    from shared.logs import configure_logging
    from worker.config import WorkerSettings
    from worker.runner import Worker

    settings = WorkerSettings()
    configure_logging("worker", settings.log_level)
    judge = StubJudge(float(os.environ.get("BENCH_SLEEP_MS", "0")) / 1000)
    worker = Worker(settings, judge)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    async with worker:
        await worker.run()
    mean = judge.items / judge.batches if judge.batches else 0
    print(f"BENCH judge batches={judge.batches} items={judge.items} mean={mean:.1f}", flush=True)


def produce(n: int) -> None:
    import redis

    from shared import keys

    url = os.environ["BENCH_CALLBACK_URL"]
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    digest = "ab" * 32
    t0 = None
    chunk = 200
    for start in range(0, n, chunk):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(n, start + chunk)):
            pipe.xadd(
                keys.JOB_STREAM,
                {
                    "taskId": f"B{i:025d}",
                    "userId": "bench-user",
                    "payload": f"bench job number {i} is a claim",
                    "textHash": digest,
                    "summaryHash": digest,
                    "job_token": f"tok-bench-{i:016d}",
                    "callback_url": url,
                    "schemaVersion": "1",
                },
            )
        if t0 is None:
            t0 = time.time()
        pipe.execute()
    print(json.dumps({"t0": t0, "t1": time.time()}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        asyncio.run(run_worker())
    elif sys.argv[1] == "produce":
        produce(int(sys.argv[2]))
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
