"""dramatiq peer for bench/queue.py (runs in bench/.venvs/dramatiq, ``dramatiq[redis]``).

Worker:   cd bench/peers && dramatiq dramatiq_peer --processes 2 --threads 8
Producer: python dramatiq_peer.py produce N   -> prints {"t0": first enqueue, "t1": last}

The actor sleeps BENCH_SLEEP_MS (time.sleep: dramatiq actors are sync, one per thread),
then INCRs BENCH_COUNTER, the completion count every system in the bench uses.
"""

from __future__ import annotations

import json
import os
import sys
import time

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

URL = os.environ["BENCH_REDIS_URL"]
COUNTER = os.environ.get("BENCH_COUNTER", "bench:done")
SLEEP_S = float(os.environ.get("BENCH_SLEEP_MS", "0")) / 1000

broker = RedisBroker(url=URL)
dramatiq.set_broker(broker)
counter = redis.Redis.from_url(URL)


@dramatiq.actor(max_retries=0, queue_name="bench")
def bench_job(i: int) -> None:
    if SLEEP_S:
        time.sleep(SLEEP_S)
    counter.incr(COUNTER)


def produce(n: int) -> None:
    t0 = time.time()
    for i in range(n):
        bench_job.send(i)
    print(json.dumps({"t0": t0, "t1": time.time()}), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["produce"]:
    produce(int(sys.argv[2]))
