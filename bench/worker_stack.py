"""The stack for bench/worker.py's queue path: a private Redis, a fresh PostgreSQL database
with the starter knowledge base, a real result receiver and a real worker per batch size
as subprocesses, and one timed run of N jobs through them."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import redis
import redis.asyncio as aioredis
from ulid import ULID

from ai_service.queue import JobQueue
from backend_service.config import BackendSettings
from backend_service.enqueue import job_of, new_job_token
from backend_service.tasks import TaskRepository
from bench.pg import bench_database, stop_servers
from bench.worker_load import CpuMeter, log
from satyamark.infra import PostgresServer, RedisServer, free_port
from satyamark.kb_cli import load_starter
from shared import keys
from shared import tasks as task_rows
from shared.db import create_pool
from shared.hashing import summary_hash, text_hash
from shared.knowledge import KB_PATH
from shared.redis_client import create_redis
from shared.tasks import NewTask

ROOT = Path(__file__).resolve().parents[1]
QUEUE_RUN_TIMEOUT_S = 600.0
POLL_S = 0.05
# worker.model.PacedJudge logs this line before each model call.
BATCH_LINE = re.compile(r"model run: (\d+) texts")


@dataclass
class Proc:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 20.0) -> None:
        if not self.alive:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def spawn(name: str, module: str, env: dict[str, str], logs: Path) -> Proc:
    log_path = logs / f"{name}.log"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Proc(name, proc, log_path)


@dataclass
class QueueRun:
    items: int
    seconds: float  # first XADD -> last completed_at
    polled_s: float  # first XADD -> this bench saw every row finished
    enqueue_s: float  # first XADD -> last XADD answered
    failed: int
    cpu: dict[str, float]
    redis_calls: dict[str, int]
    # Texts per model call, from the worker's log (empty: not logged).
    batches: list[int] = field(default_factory=list)

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds


@dataclass
class Services:
    """Redis, PostgreSQL and the result receiver for the whole run; a worker per B."""

    tmp: Path
    models: dict[str, str]  # WORKER_* model settings
    worker_env: dict[str, str]
    runner: asyncio.Runner
    redis_server: RedisServer | None = None
    pg_server: PostgresServer | None = None
    database_url: str = ""
    drop_db: bool = False
    receiver: Proc | None = None
    worker: Proc | None = None
    callback_url: str = ""
    env: dict[str, str] = field(default_factory=dict)
    pool: asyncpg.Pool | None = None
    _redis_async: aioredis.Redis | None = None

    @property
    def logs(self) -> Path:
        return self.tmp / "logs"

    @property
    def redis_client(self) -> aioredis.Redis:
        assert self._redis_async is not None, "start() first"
        return self._redis_async

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        # No AOF: the queue's durability is not what is measured here.
        self.redis_server = RedisServer(self.tmp / "redis", appendonly=False).start()
        self.database_url, self.pg_server = bench_database(
            self.tmp, "satyamark_wbench", log, self.runner.run
        )
        self.drop_db = self.pg_server is None
        # Creates the database, migrates it (shared.db) and upserts the starter file.
        loaded = self.runner.run(load_starter(self.database_url))
        assert loaded is not None, f"{KB_PATH} is missing"
        log(f"knowledge base in PostgreSQL: {loaded.count} claims")
        port = free_port()
        receiver_url = f"http://127.0.0.1:{port}"
        self.callback_url = BackendSettings(receiver_url=receiver_url).callback_url
        self.env = {
            **os.environ,
            "SATYAMARK_ENV": "development",
            "SATYAMARK_INTERNAL_TOKEN": secrets.token_urlsafe(32),
            "CALLBACK_SECRET": secrets.token_urlsafe(32),
            "REDIS_URL": self.redis_server.url,
            "DATABASE_URL": self.database_url,
            "RUN_MIGRATIONS": "false",  # done above
            "RECEIVER_URL": receiver_url,
        }
        self.receiver = spawn(
            "result_receiver",
            "result_receiver",
            {**self.env, "RECEIVER_PORT": str(port)},
            self.logs,
        )
        self._wait_healthy(f"{receiver_url}/healthz", self.receiver, 60)
        self.pool = self.runner.run(create_pool(self.database_url, min_size=1, max_size=8))
        self._redis_async = create_redis(self.redis_server.url, "worker-bench")

    def _wait_healthy(self, url: str, proc: Proc, timeout: float) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not proc.alive:
                raise RuntimeError(f"{proc.name} exited; see {proc.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{proc.name} not healthy within {timeout:.0f}s")

    def redis(self) -> redis.Redis:
        assert self.redis_server is not None
        return redis.Redis.from_url(self.redis_server.url, decode_responses=True)

    def start_worker(self, batch: int, max_in_flight: int, timeout: float = 300.0) -> Proc:
        """A worker with this batch size; returns once it has joined the group (it loads
        and warms its model and the knowledge base first)."""
        consumer = f"bench-b{batch}-{os.getpid()}"
        env = {
            **self.env,
            **self.models,
            **self.worker_env,
            "WORKER_BATCH_SIZE": str(batch),
            "WORKER_MAX_IN_FLIGHT": str(max_in_flight),
            "WORKER_CONSUMER": consumer,
            "WORKER_KNOWLEDGE_BASE": "postgres",
            "WORKER_BLOCK_MS": "1000",  # a stopping worker waits out its blocking read
            "WORKER_DRAIN_TIMEOUT_S": "30",
        }
        self.worker = spawn(f"worker-b{batch}", "worker", env, self.logs)
        end = time.monotonic() + timeout
        client = self.redis()
        try:
            while True:
                try:
                    names = {
                        c["name"]
                        for c in client.xinfo_consumers(keys.JOB_STREAM, keys.WORKER_GROUP)
                    }
                except redis.ResponseError:  # no group yet
                    names = set()
                if consumer in names:
                    return self.worker
                if not self.worker.alive:
                    raise RuntimeError(f"the worker exited; see {self.worker.log_path}")
                if time.monotonic() > end:
                    raise RuntimeError(f"the worker did not join within {timeout:.0f}s")
                time.sleep(0.2)
        finally:
            client.close()

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def meter(self) -> CpuMeter:
        """CPU use of this run's processes (PostgreSQL: all of the server's)."""
        assert self.worker is not None and self.receiver is not None
        assert self.redis_server is not None and self.redis_server.proc is not None
        return CpuMeter(
            {
                "worker": [self.worker.proc.pid],
                "result_receiver": [self.receiver.proc.pid],
                "redis": [self.redis_server.proc.pid],
                "bench": [os.getpid()],
            }
        )

    def queue_run(self, texts: list[str], user_id: str) -> QueueRun:
        assert self.worker is not None
        log_path = self.worker.log_path
        offset = log_path.stat().st_size
        run = self.runner.run(self._queue_run(texts, user_id))
        with open(log_path, "rb") as f:
            f.seek(offset)
            run.batches = [int(n) for n in BATCH_LINE.findall(f.read().decode(errors="replace"))]
        return run

    async def _queue_run(self, texts: list[str], user_id: str) -> QueueRun:
        assert self.pool is not None and self.worker is not None
        worker = self.worker
        tasks = TaskRepository(self.pool)
        jobs = []
        for text in texts:
            task = NewTask(str(ULID()), user_id, text_hash(text), summary_hash(text), text)
            token, token_hash = new_job_token()
            await tasks.create_queued(task, token_hash)
            jobs.append(job_of(task, token, self.callback_url))
        queue = JobQueue(self.redis_client)
        meter = self.meter()
        calls_before = await self._redis_calls()
        meter.begin()
        t0 = time.time()
        # The blocking pool of create_redis runs up to 64 XADDs at a time.
        await asyncio.gather(*(queue.enqueue(job) for job in jobs))
        enqueue_s = time.time() - t0
        deadline = time.monotonic() + QUEUE_RUN_TIMEOUT_S
        while True:
            progress = await task_rows.progress_of_user(self.pool, user_id)
            if progress.finished >= len(jobs):
                break
            if not worker.alive:
                raise RuntimeError(f"the worker exited; see {worker.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{progress.finished}/{len(jobs)} finished after {QUEUE_RUN_TIMEOUT_S:.0f}s"
                )
            await asyncio.sleep(POLL_S)
        polled_s = time.time() - t0
        cpu = meter.end()
        calls_after = await self._redis_calls()
        await self._wait_acked(deadline)
        calls = {
            name: calls_after.get(name, 0) - calls_before.get(name, 0)
            for name in ("xadd", "xreadgroup", "xack", "xdel", "exec")
        }
        return QueueRun(
            items=len(jobs),
            seconds=(progress.last_completed or datetime.now(UTC)).timestamp() - t0,
            polled_s=polled_s,
            enqueue_s=enqueue_s,
            failed=progress.failed,
            cpu=cpu,
            redis_calls=calls,
        )

    async def _redis_calls(self) -> dict[str, int]:
        stats = await self.redis_client.info("commandstats")
        return {
            name.removeprefix("cmdstat_"): int(value["calls"])
            for name, value in stats.items()
            if isinstance(value, dict)
        }

    async def _wait_acked(self, deadline: float) -> None:
        """Until every entry is acked and deleted, so runs never overlap."""
        while await self.redis_client.xlen(keys.JOB_STREAM):
            if time.monotonic() > deadline:
                raise RuntimeError("entries still on the stream after the run")
            await asyncio.sleep(POLL_S)

    def stop(self) -> None:
        for proc in (self.worker, self.receiver):
            if proc is not None:
                try:
                    proc.stop()
                except Exception as exc:
                    log(f"stopping {proc.name}: {exc!r}")
        if self._redis_async is not None:
            try:
                self.runner.run(self._redis_async.aclose())
            except Exception as exc:
                log(f"closing the Redis client: {exc!r}")
        if self.pool is not None:
            try:
                self.runner.run(self.pool.close())
            except Exception as exc:
                log(f"closing the pool: {exc!r}")
        drop = self.database_url if self.drop_db else None
        stop_servers(self.redis_server, self.pg_server, drop, log, self.runner.run)
