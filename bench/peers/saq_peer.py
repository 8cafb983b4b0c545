"""saq peer for bench/queue.py (runs in bench/.venvs/saq, ``saq[redis]``).

Worker:   cd bench/peers && saq saq_peer.settings --workers 2   (concurrency 32 each)
Producer: python saq_peer.py produce N   -> prints {"t0": first enqueue, "t1": last}

The job awaits asyncio.sleep(BENCH_SLEEP_MS), then INCRs BENCH_COUNTER, the completion
count every system in the bench uses.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

import redis.asyncio as aioredis
from saq import Queue

URL = os.environ["BENCH_REDIS_URL"]
COUNTER = os.environ.get("BENCH_COUNTER", "bench:done")
SLEEP_S = float(os.environ.get("BENCH_SLEEP_MS", "0")) / 1000
CONCURRENCY = int(os.environ.get("BENCH_SAQ_CONCURRENCY", "32"))

queue = Queue.from_url(URL, name="bench")


async def startup(ctx: dict[str, Any]) -> None:
    ctx["counter"] = aioredis.Redis.from_url(URL)


async def bench_job(ctx: dict[str, Any], *, i: int) -> None:
    if SLEEP_S:
        await asyncio.sleep(SLEEP_S)
    await ctx["counter"].incr(COUNTER)


settings = {
    "queue": queue,
    "functions": [bench_job],
    "concurrency": CONCURRENCY,
    "startup": startup,
}


async def produce(n: int) -> None:
    await queue.connect()
    t0 = time.time()
    chunk = 200
    for start in range(0, n, chunk):
        await asyncio.gather(
            *(queue.enqueue("bench_job", i=i) for i in range(start, min(n, start + chunk)))
        )
    print(json.dumps({"t0": t0, "t1": time.time()}), flush=True)
    await queue.disconnect()


if __name__ == "__main__" and sys.argv[1:2] == ["produce"]:
    asyncio.run(produce(int(sys.argv[2])))
