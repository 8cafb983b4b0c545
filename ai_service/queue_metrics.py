"""The queue gauges (``satyamark_queue_*``), read from Redis when Prometheus scrapes.

Read at scrape time rather than kept up to date: only Redis knows the truth across
every ai_service and worker, and a scrape every few seconds costs four commands. It runs
on the metrics thread, so it uses a synchronous client of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared import keys
from shared.metrics import QUEUE_GAUGES
from shared.redis_client import create_sync_redis
from shared.stream_figures import backlog, entry_age_s

log = logging.getLogger(__name__)


def _read(client: redis.Redis) -> dict[str, float]:
    pipe = client.pipeline(transaction=False)
    pipe.exists(keys.JOB_STREAM)
    pipe.xlen(keys.JOB_STREAM)
    pipe.xlen(keys.JOB_DLQ_STREAM)
    exists, length, dlq = pipe.execute()
    groups = client.xinfo_groups(keys.JOB_STREAM) if exists else []
    group = next((g for g in groups if g["name"] == keys.WORKER_GROUP), None)
    pending, consumers, oldest_age = 0, 0, 0.0
    if group is not None:
        pending, consumers = int(group["pending"]), int(group["consumers"])
        if pending:
            oldest_id = client.xpending(keys.JOB_STREAM, keys.WORKER_GROUP)["min"]
            oldest_age = entry_age_s(oldest_id)
    return {
        "satyamark_queue_backlog": backlog(int(length), group),
        "satyamark_queue_pending": pending,
        "satyamark_queue_oldest_pending_age_seconds": oldest_age,
        "satyamark_queue_dlq_length": int(dlq),
        "satyamark_queue_consumers": consumers,
    }


class QueueCollector(Collector):
    def __init__(self, redis_url: str) -> None:
        self._client = create_sync_redis(redis_url, timeout_s=2)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            values = _read(self._client)
        except redis.RedisError as exc:
            # No figures rather than stale ones; the scrape itself still succeeds.
            log.warning("queue metrics unavailable: %s", exc)
            return
        for name, value in values.items():
            yield GaugeMetricFamily(name, QUEUE_GAUGES[name], value=value)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())  # collected only at scrape time, never at registration
