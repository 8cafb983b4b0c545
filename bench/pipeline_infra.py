"""The pipeline benchmark's stack under test: start and stop it (private Redis, a fresh
PostgreSQL database, every service through ``satyamark.devstack.Stack``) and read what it is
doing (CPU per process, job stream backlog)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
from ulid import ULID

from bench.pg import bench_database, stop_servers
from bench.pipeline_common import log
from bench.procstat import (
    TICK,
    cpu_seconds,
    machine_busy_seconds,
    machine_ticks,
    postgres_pids,
)
from satyamark.devstack import Stack, StackOptions
from satyamark.infra import PostgresServer, RedisServer
from shared import keys
from tests.utils.tiny_models import build_tiny_encoder

HUGE = {"capacity": 1_000_000_000, "refill_per_s": 1_000_000}


# -- infrastructure ----------------------------------------------------------------------


@dataclass
class Infra:
    tmp: Path
    redis_server: RedisServer | None = None
    pg_server: PostgresServer | None = None
    database_url: str = ""
    drop_db: bool = False
    stack: Stack | None = None

    def start(
        self,
        workers: int,
        ws_instances: int,
        torch_threads: int = 0,
        *,
        metrics: bool = True,
        extra_env: dict[str, str] | None = None,
        shared_pg: PostgresServer | None = None,
    ) -> Stack:
        """``shared_pg``: a private server several stacks share, a database each (the
        caller stops it); else the local server, or a private one of this stack's own."""
        model = build_tiny_encoder(self.tmp / "tiny-model")
        self.redis_server = RedisServer(self.tmp / "redis").start()
        if shared_pg is not None:
            server = shared_pg.url.rsplit("/", 1)[0]
            self.database_url = f"{server}/satyamark_bench_{ULID().hex[:10].lower()}"
        else:
            self.database_url, self.pg_server = bench_database(self.tmp, "satyamark_bench", log)
            self.drop_db = self.pg_server is None
        rules = {"verify": HUGE, "auth": HUGE, "ws": HUGE, "tasks": HUGE}
        options = StackOptions(
            data_dir=self.tmp / "data",
            default_ports=False,
            workers=workers,
            ws_instances=ws_instances,
            worker_model=str(model),
            redis_url=self.redis_server.url,
            database_url=self.database_url,
            metrics=metrics,
            extra_env={
                **(extra_env or {}),
                "RATELIMIT_RULES": json.dumps(rules),
                "WORKER_BATCH_WAIT_MS": "2",
                "WORKER_BLOCK_MS": "1000",
                "WORKER_DRAIN_TIMEOUT_S": "5",
                **(
                    {"OMP_NUM_THREADS": str(torch_threads), "MKL_NUM_THREADS": str(torch_threads)}
                    if torch_threads
                    else {}
                ),
            },
        )
        self.stack = Stack(options)
        try:
            self.stack.start()
        except BaseException:
            self.stack.stop()
            raise
        return self.stack

    def stop(self) -> None:
        if self.stack is not None:
            try:
                self.stack.stop()
            except Exception as exc:
                log(f"stack stop: {exc!r}")
        drop = self.database_url if self.drop_db else None
        stop_servers(self.redis_server, self.pg_server, drop, log)


@contextmanager
def bench_infra(prefix: str, *, keep: bool) -> Iterator[Infra]:
    """Servers and a stack in a temp dir of their own, stopped (and the dir removed,
    unless ``keep``) however the benchmark ends; SIGTERM ends it like Ctrl-C."""

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    infra = Infra(tmp)
    try:
        yield infra
    finally:
        log("stopping the stack")
        infra.stop()
        if keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


# -- per-process CPU ------------------------------------------------------------------------


class CpuSampler:
    """CPU time of each stack process over an interval, as % of one core."""

    def __init__(self, infra: Infra) -> None:
        assert infra.stack is not None and infra.redis_server is not None
        self.groups: dict[str, list[int]] = {
            name: [c.proc.pid] for name, c in infra.stack.components.items() if c.proc
        }
        assert infra.redis_server.proc is not None
        self.groups["redis"] = [infra.redis_server.proc.pid]
        self.groups["client (this bench)"] = [os.getpid()]
        self._start: dict[str, float] = {}
        self._t0 = 0.0

    def _totals(self) -> dict[str, float]:
        groups = {**self.groups, "postgres (all backends)": postgres_pids()}
        out = {name: cpu_seconds(pids) for name, pids in groups.items()}
        ticks = machine_ticks()
        out["MACHINE busy (all cores)"] = machine_busy_seconds()
        out["MACHINE steal"] = ticks[7] / TICK if len(ticks) > 7 else 0.0
        return out

    def stack_cpu_seconds(self) -> float:
        """CPU seconds used so far by the stack: every component, Redis and PostgreSQL
        (not this client)."""
        totals = self._totals()
        return sum(
            v
            for k, v in totals.items()
            if not k.startswith("MACHINE") and k != "client (this bench)"
        )

    def begin(self) -> None:
        self._start = self._totals()
        self._t0 = time.monotonic()

    def seconds(self) -> dict[str, float]:
        """CPU seconds of each group since ``begin`` (the phase and whatever followed)."""
        now = self._totals()
        out = {name: max(0.0, now[name] - self._start.get(name, 0.0)) for name in now}
        ours = sum(v for k, v in out.items() if not k.startswith("MACHINE"))
        out["MACHINE other load (not ours)"] = max(0.0, out["MACHINE busy (all cores)"] - ours)
        return out

    def end(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._t0
        now = self._totals()
        # postgres backends come and go; a negative delta means some exited
        out = {
            name: round(100 * max(0.0, now[name] - self._start.get(name, 0.0)) / elapsed, 1)
            for name in now
        }
        ours = sum(v for k, v in out.items() if not k.startswith("MACHINE"))
        out["MACHINE other load (not ours)"] = round(
            max(0.0, out["MACHINE busy (all cores)"] - ours), 1
        )
        return out


# -- job stream backlog ------------------------------------------------------------------


def queue_backlog(redis_url: str) -> int:
    """Jobs not yet acknowledged by a worker (waiting + in flight)."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, socket_timeout=5)
    try:
        groups = client.xinfo_groups(keys.JOB_STREAM)
    except redis.ResponseError:
        return 0
    finally:
        client.close()
    for group in groups:
        if group["name"] == keys.WORKER_GROUP:
            return int(group.get("lag") or 0) + int(group.get("pending") or 0)
    return 0


async def wait_drained(redis_url: str, limit_s: float) -> tuple[int, float]:
    t0 = time.monotonic()
    backlog = queue_backlog(redis_url)
    while backlog and time.monotonic() - t0 < limit_s:
        await asyncio.sleep(0.25)
        backlog = queue_backlog(redis_url)
    return backlog, time.monotonic() - t0
