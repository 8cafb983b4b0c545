"""Worker model-stage benchmark: the judge alone, and the same judge through the real queue.

    .venv/bin/python bench/worker.py               # B = 1, 8, 32, 128, base-size NLI
    .venv/bin/python bench/worker.py --quick       # fewer items (< 5 min on 2 idle cores)
    .venv/bin/python bench/worker.py --no-nli      # MiniLM + the word-level stance only
    .venv/bin/python bench/worker.py --device cuda --batch-sizes 8,32,128
    .venv/bin/python bench/worker.py --keep        # keep the temp dir (worker/receiver logs)

For each batch size B, on the same number of fresh texts (``bench/eval_set.jsonl`` in a
fixed shuffled order, cycled, each made unique with a " (#n)" suffix):
- model alone: ``judge.judge(batch)`` in this process, batches of B back to back, after
  a warm-up; items/s;
- through the queue: one real ``python -m worker`` (WORKER_BATCH_SIZE=B,
  WORKER_MAX_IN_FLIGHT=2B, same models, device and threads) and one real
  ``python -m result_receiver``, on a private Redis and a fresh PostgreSQL database
  holding the starter knowledge base. N task rows are written as the backend writes
  them and the N jobs XADDed as ai_service does; the time runs from the first XADD
  until the last row is ``done`` (its ``completed_at``); items/s.
Both paths are measured in turn (3 runs each; ``--quick``: 3 and 1), medians compared.
Target (issue): the queue path reaches >= 90 % of the model-alone items/s at the same B.

The encoder is the bundled all-MiniLM-L6-v2; the NLI model is a randomly initialised
bert-base-size classifier built on the spot (its stances are noise; its cost is real).
On a shared host each run waits for a quiet machine and is measured again when other
jobs used more than OTHER_MAX_PCT of a core during it. WORKER_MIN_JOB_MS=1 makes the
worker log each model call, which gives the batch sizes it formed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

# Run as a script, this file's folder would come first on sys.path, where queue.py and
# worker.py shadow the standard library's queue and our worker package: keep it off.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _HERE]
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
import torch  # noqa: E402
from ulid import ULID  # noqa: E402

from ai_service.queue import JobQueue  # noqa: E402
from backend_service.config import BackendSettings  # noqa: E402
from backend_service.enqueue import new_job_token  # noqa: E402
from backend_service.tasks import NewTask, TaskRepository  # noqa: E402
from bench.pg import drop_database, pg_answers  # noqa: E402
from bench.procstat import (  # noqa: E402
    cpu_seconds,
    machine_busy_pct,
    machine_busy_seconds,
    postgres_pids,
)
from satyamark.infra import PostgresServer, RedisServer, free_port, port_answers  # noqa: E402
from satyamark.kb_cli import load_starter  # noqa: E402
from shared import keys  # noqa: E402
from shared.db import create_pool  # noqa: E402
from shared.hashing import summary_hash, text_hash  # noqa: E402
from shared.knowledge import STARTER_KB_PATH  # noqa: E402
from shared.redis_client import create_redis  # noqa: E402
from shared.schemas import Job  # noqa: E402
from worker.ai.stance import NliStance  # noqa: E402
from worker.config import WorkerSettings  # noqa: E402
from worker.model import Judge, default_model_ref, evidence_judge, load_judge  # noqa: E402

EVAL_SET = ROOT / "bench" / "eval_set.jsonl"
LOCAL_PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
TARGET_RATIO = 0.90
TOTAL_LIMIT_S = {"quick": 15 * 60, "full": 45 * 60}
QUEUE_RUN_TIMEOUT_S = 600.0
POLL_S = 0.05
# worker.model.PacedJudge logs this line before each model call.
BATCH_LINE = re.compile(r"model run: (\d+) texts")
QUIET_PCT = 25.0  # % of one core: "nearly idle" before a timed run
OTHER_MAX_PCT = 30.0  # % of one core used by others during a run that still counts


def log(msg: str) -> None:
    print(f"[worker-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- texts ---------------------------------------------------------------------------------


class Texts:
    """The evaluation texts in a fixed shuffled order, so that any prefix mixes every
    kind; ``take(n)`` is the first n of that order (cycled), each made unique."""

    def __init__(self, path: Path) -> None:
        base = [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
        random.Random(7).shuffle(base)
        self.base = base
        self._next_id = 0

    def take(self, n: int) -> list[str]:
        out = []
        for i in range(n):
            self._next_id += 1
            out.append(f"{self.base[i % len(self.base)]} (#{self._next_id})")
        return out


# -- CPU use -------------------------------------------------------------------------------


class CpuMeter:
    """CPU time of named processes over an interval, as % of one core."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self._start: dict[str, float] = {}
        self._t0 = 0.0

    def _totals(self) -> dict[str, float]:
        groups = {**self.groups, "postgres (all)": postgres_pids()}
        out = {name: cpu_seconds(pids) for name, pids in groups.items()}
        out["machine"] = machine_busy_seconds()
        return out

    def begin(self) -> None:
        self._start = self._totals()
        self._t0 = time.monotonic()

    def end(self) -> dict[str, float]:
        """% of one core per group, plus ``machine`` (everything) and ``other`` (what is
        not ours: other jobs on a shared host)."""
        elapsed = max(1e-9, time.monotonic() - self._t0)
        now = self._totals()
        out = {
            name: round(100 * max(0.0, now[name] - self._start.get(name, 0.0)) / elapsed, 1)
            for name in now
        }
        ours = sum(v for name, v in out.items() if name != "machine")
        out["other"] = round(max(0.0, out["machine"] - ours), 1)
        return out


def wait_quiet(limit_s: float, busy_pct: float = QUIET_PCT) -> float:
    """Wait (at most ``limit_s``) until the machine is nearly idle, so a timed run does
    not start in the middle of another job's burst on a shared host; the last reading."""
    end = time.monotonic() + limit_s
    while (busy := machine_busy_pct(0.5)) > busy_pct and time.monotonic() < end:
        pass
    return busy


# -- models --------------------------------------------------------------------------------


def code_version() -> str:
    """The commit, and "+dirty" when worker/ has uncommitted changes (what ran)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--", "worker") else "")


def param_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    return f"CPU: {model}, {os.cpu_count()} cores"


def time_model(judge: Judge, texts: list[str], batch: int) -> float:
    """Seconds to judge ``texts`` in batches of ``batch``, back to back."""
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        verdicts = judge.judge(texts[i : i + batch])
        assert len(verdicts) == len(texts[i : i + batch])
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - started


def warm_up(judge: Judge, texts: Texts, batch: int) -> float:
    """A first batch (lazy initialisation), then the items/s over the first 32 texts of
    the order (at least one batch): an estimate that sizes the runs."""
    judge.judge(texts.take(batch))
    items = batch * math.ceil(32 / batch)
    return items / time_model(judge, texts.take(items), batch)


# -- services --------------------------------------------------------------------------------


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
        db_name = f"satyamark_wbench_{ULID().hex[:10].lower()}"
        local = port_answers("127.0.0.1", 5432) and self.runner.run(pg_answers(LOCAL_PG_SERVER))
        if local:
            self.database_url = f"{LOCAL_PG_SERVER}/{db_name}"
            self.drop_db = True
            log(f"PostgreSQL: local server, fresh database {db_name}")
        else:
            self.pg_server = PostgresServer(self.tmp / "postgres").start()
            self.database_url = self.pg_server.url
            log("PostgreSQL: private server in the temp dir")
        # Creates the database, migrates it (shared.db) and upserts the starter file.
        loaded = self.runner.run(load_starter(self.database_url))
        assert loaded is not None, f"{STARTER_KB_PATH} is missing"
        log(f"knowledge base in PostgreSQL: {loaded[1]} claims")
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
            jobs.append(
                Job(
                    taskId=task.task_id,
                    userId=task.user_id,
                    payload=task.payload,
                    textHash=task.text_hash,
                    summaryHash=task.summary_hash,
                    job_token=token,
                    callback_url=self.callback_url,
                )
            )
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
            row = await self.pool.fetchrow(
                "SELECT count(*) FILTER (WHERE status <> 'queued') AS finished,"
                " count(*) FILTER (WHERE status = 'failed') AS failed,"
                " max(completed_at) AS last FROM ai_results WHERE user_id = $1",
                user_id,
            )
            assert row is not None
            if row["finished"] >= len(jobs):
                break
            if not worker.alive:
                raise RuntimeError(f"the worker exited; see {worker.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{row['finished']}/{len(jobs)} finished after {QUEUE_RUN_TIMEOUT_S:.0f}s"
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
            seconds=row["last"].timestamp() - t0,
            polled_s=polled_s,
            enqueue_s=enqueue_s,
            failed=int(row["failed"]),
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
        if self.redis_server is not None:
            self.redis_server.stop()
        if self.pg_server is not None:
            self.pg_server.stop()
        if self.drop_db:
            try:
                self.runner.run(asyncio.wait_for(drop_database(self.database_url), 20))
            except Exception as exc:
                log(f"could not drop {self.database_url}: {exc!r}")


# -- the benchmark ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRun:
    items_per_s: float
    cpu: dict[str, float]


def model_run(judge: Judge, texts: list[str], batch: int, meter: CpuMeter) -> ModelRun:
    meter.begin()
    seconds = time_model(judge, texts, batch)
    return ModelRun(len(texts) / seconds, meter.end())


class Measured(Protocol):
    @property
    def items_per_s(self) -> float: ...

    @property
    def cpu(self) -> dict[str, float]: ...


M = TypeVar("M", bound=Measured)


@dataclass
class LoadGuard:
    """Runs a measurement when the machine is quiet, and again (up to ``repeats`` more
    times) when other jobs used more than OTHER_MAX_PCT of a core during it: on a shared
    host a burst of someone's tests would otherwise decide the ratio."""

    quiet_s: float
    repeats: int
    _repeated: int = 0

    def run(self, what: str, measure: Callable[[], M]) -> M:
        for attempt in range(self.repeats + 1):
            busy = wait_quiet(self.quiet_s)
            result = measure()
            other = result.cpu["other"]
            ours = f"worker {result.cpu['worker']:.0f}%, bench {result.cpu['bench']:.0f}%"
            log(
                f"{what}: {result.items_per_s:.1f} items/s (CPU: {ours}, others"
                f" {other:.0f}%; busy before {busy:.0f}%)"
            )
            if other <= OTHER_MAX_PCT or attempt == self.repeats:
                return result
            self._repeated += 1
            log(f"{what}: other jobs loaded the machine; measuring again")
        raise AssertionError("unreachable")

    def take_repeats(self) -> int:
        repeated, self._repeated = self._repeated, 0
        return repeated


@dataclass
class Row:
    batch: int
    items: int
    model_runs: list[ModelRun] = field(default_factory=list)
    queue_runs: list[QueueRun] = field(default_factory=list)
    estimate: float = 0.0
    repeated: int = 0  # runs thrown away because other jobs loaded the machine

    @property
    def model(self) -> float:
        return statistics.median(r.items_per_s for r in self.model_runs)

    @property
    def queue(self) -> float:
        return statistics.median(r.items_per_s for r in self.queue_runs)

    @property
    def ratio(self) -> float:
        return self.queue / self.model

    def median_queue_run(self) -> QueueRun:
        return sorted(self.queue_runs, key=lambda r: r.items_per_s)[len(self.queue_runs) // 2]

    def summary(self) -> dict[str, Any]:
        q = self.median_queue_run()
        batches = self.items / self.batch
        return {
            "batch": self.batch,
            "items_per_run": self.items,
            "warm_up_items_s": round(self.estimate, 2),
            "model_items_s": round(self.model, 2),
            "model_runs_items_s": [round(r.items_per_s, 2) for r in self.model_runs],
            "model_runs_other_load_pct": [r.cpu["other"] for r in self.model_runs],
            "queue_items_s": round(self.queue, 2),
            "queue_runs_items_s": [round(r.items_per_s, 2) for r in self.queue_runs],
            "queue_runs_other_load_pct": [r.cpu["other"] for r in self.queue_runs],
            "ratio": round(self.ratio, 3),
            "pass": self.ratio >= TARGET_RATIO,
            "runs_repeated_for_load": self.repeated,
            "queue_median_run": {
                "seconds": round(q.seconds, 3),
                "polled_s": round(q.polled_s, 3),
                "enqueue_s": round(q.enqueue_s, 3),
                "failed": q.failed,
                "cpu_pct": q.cpu,
                "redis_calls": q.redis_calls,
                "xreadgroup_per_full_batch": round(q.redis_calls["xreadgroup"] / batches, 2),
                "model_calls": len(q.batches),
                "mean_batch": round(statistics.mean(q.batches), 2) if q.batches else None,
                "full_batches": sum(1 for n in q.batches if n == self.batch),
                # texts per model call -> how many calls had that many
                "batch_histogram": dict(sorted(Counter(q.batches).items(), reverse=True)),
            },
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer items and one queue run per B")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--no-nli", action="store_true", help="no NLI model (word-level stance)")
    p.add_argument(
        "--nli-model", default="", help="an NLI model path or id instead of the random one"
    )
    p.add_argument("--model", default="", help="the encoder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument(
        "--batch-sizes", default="1,8,32,128", help="comma-separated (default 1,8,32,128)"
    )
    p.add_argument("--batch-wait-ms", type=int, default=2, help="WORKER_BATCH_WAIT_MS (default 2)")
    p.add_argument(
        "--in-flight-factor", type=int, default=2, help="WORKER_MAX_IN_FLIGHT = this x B"
    )
    p.add_argument(
        "--cpu-threads", type=int, default=0, help="WORKER_CPU_THREADS, both paths (0 = all cores)"
    )
    p.add_argument(
        "--no-batch-log",
        action="store_true",
        help="no WORKER_MIN_JOB_MS=1 (its log line per model call gives the batch sizes)",
    )
    p.add_argument("--nli-batch-size", type=int, default=64, help="WORKER_NLI_BATCH_SIZE")
    p.add_argument("--seconds", type=float, help="target length of one run (default 6, quick 2.5)")
    p.add_argument(
        "--runs", type=int, help="runs per path and B (default 3; quick: 3 model, 1 queue)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, models)")
    args = p.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    if not args.batch_sizes or min(args.batch_sizes) < 1:
        p.error("--batch-sizes needs positive integers")
    return args


def settings_for(args: argparse.Namespace, nli_model: str) -> WorkerSettings:
    # Every field that matters is given, so no WORKER_* variable of the caller leaks in.
    return WorkerSettings(
        model=args.model,
        nli_model=nli_model,
        knowledge_base=str(STARTER_KB_PATH),  # the same claims as the worker's PostgreSQL
        device=args.device,
        cpu_threads=args.cpu_threads,  # the same in both paths
        nli_batch_size=args.nli_batch_size,
        min_job_ms=0,
    )


def measure_batch(
    row: Row,
    judge: Judge,
    services: Services,
    texts: Texts,
    guard: LoadGuard,
    model_runs: int,
    queue_runs: int,
) -> None:
    """The runs of one batch size, the two paths interleaved so that drifting load on
    a shared host hits both alike; every run judges ``row.items`` fresh texts."""
    batch, items = row.batch, row.items

    def alone() -> ModelRun:
        return model_run(judge, texts.take(items), batch, services.meter())

    def queued() -> QueueRun:
        return services.queue_run(texts.take(items), f"bench-{batch}-{ULID()}")

    for i in range(max(model_runs, queue_runs)):
        if i < model_runs:
            row.model_runs.append(guard.run(f"B={batch}: model alone", alone))
        if i < queue_runs:
            row.queue_runs.append(guard.run(f"B={batch}: queue", queued))


def bench(args: argparse.Namespace, tmp: Path, runner: asyncio.Runner) -> dict[str, Any]:
    code = code_version()  # each worker imports the tree as it is when it starts
    busy = machine_busy_pct()
    log(f"machine busy before the start: {busy}% of one core")
    if busy > OTHER_MAX_PCT:
        log("WARNING: the machine is busy; figures will be low and noisy")
    nli_model = "" if args.no_nli else args.nli_model
    if not args.no_nli and not nli_model:
        from tests.utils.tiny_models import build_random_nli

        log("building a random-weight bert-base NLI classifier ...")
        nli_model = str(build_random_nli(tmp / "nli-base", tokenizer=default_model_ref()[0]))
    settings = settings_for(args, nli_model)
    judge = load_judge(settings)
    found = evidence_judge(judge)
    assert found is not None
    device = found.encoder.device
    models = {"encoder": found.encoder.name, "encoder_params": param_count(found.encoder.model)}
    if isinstance(found.stance, NliStance):
        models |= {"nli": nli_model, "nli_params": param_count(found.stance.model)}
    else:
        models |= {"nli": "", "stance": found.stance.name}
    threads = torch.get_num_threads()
    log(f"judge {judge.name} on {device} ({device_name(device)}), torch threads {threads}")

    worker_models = {
        "WORKER_MODEL": args.model,
        "WORKER_NLI_MODEL": nli_model,
        "WORKER_DEVICE": args.device,
        "WORKER_CPU_THREADS": str(args.cpu_threads),
        "WORKER_NLI_BATCH_SIZE": str(args.nli_batch_size),
        # 1 ms: every real batch takes longer, so this only adds the worker's log line
        # "model run: <n> texts", from which the batch sizes are read.
        "WORKER_MIN_JOB_MS": "0" if args.no_batch_log else "1",
    }
    services = Services(
        tmp,
        models=worker_models,
        worker_env={"WORKER_BATCH_WAIT_MS": str(args.batch_wait_ms)},
        runner=runner,
    )
    seconds = args.seconds or (2.5 if args.quick else 6.0)
    min_batches = 2 if args.quick else 4
    model_runs = args.runs or 3
    queue_runs = args.runs or (1 if args.quick else 3)
    guard = LoadGuard(quiet_s=10.0 if args.quick else 30.0, repeats=2 if args.quick else 3)
    texts = Texts(EVAL_SET)
    rows: list[Row] = []
    try:
        services.start()
        for batch in args.batch_sizes:
            services.start_worker(batch, args.in_flight_factor * batch)
            log(f"B={batch}: worker joined; warming up the model here")
            wait_quiet(guard.quiet_s)
            estimate = warm_up(judge, texts, batch)
            # The same number of items on both paths, ~``seconds`` and a few batches: the
            # queue's first batch forms while the jobs are still arriving.
            items = max(min_batches * batch, math.ceil(estimate * seconds / batch) * batch)
            row = Row(batch, items, estimate=estimate)
            rows.append(row)
            # The queue's own warm-up (HTTP connections, first batches), untimed.
            services.queue_run(texts.take(min(batch, 16)), f"bench-warm-{batch}")
            measure_batch(row, judge, services, texts, guard, model_runs, queue_runs)
            row.repeated = guard.take_repeats()
            services.stop_worker()
    finally:
        services.stop()
    return {
        "device": device_name(device),
        "device_type": device.type,
        "torch_threads": threads,
        "torch": torch.__version__,
        "code": code if code == code_version() else f"{code} -> {code_version()} (changed)",
        "models": models,
        "quick": args.quick,
        "batch_wait_ms": args.batch_wait_ms,
        "max_in_flight_factor": args.in_flight_factor,
        "nli_batch_size": args.nli_batch_size,
        "target_ratio": TARGET_RATIO,
        "machine_busy_before_pct": busy,
        "results": [row.summary() for row in rows],
    }


def report(result: dict[str, Any]) -> None:
    m = result["models"]
    print()
    threads = f"torch {result['torch']}, {result['torch_threads']} threads"
    print(f"code          {result['code']}")
    print(f"device        {result['device']} ({threads})")
    print(f"encoder       {m['encoder']}: {m['encoder_params'] / 1e6:.1f} M parameters")
    if m.get("nli"):
        print(f"NLI           {m['nli']}: {m['nli_params'] / 1e6:.1f} M parameters")
    else:
        print(f"stance        {m['stance']} (no NLI model)")
    print(f"queue worker  WORKER_BATCH_WAIT_MS={result['batch_wait_ms']},"
          f" WORKER_MAX_IN_FLIGHT={result['max_in_flight_factor']}xB")  # fmt: skip
    print()
    head = f"{'B':>5} | {'items':>6} | {'model alone/s':>13} | {'queue/s':>8} | {'ratio':>5}"
    print(f"{head} | target {TARGET_RATIO:.2f}")
    print(f"{'-' * 5}-+-{'-' * 6}-+-{'-' * 13}-+-{'-' * 8}-+-{'-' * 5}-+-{'-' * 12}")
    for r in result["results"]:
        print(
            f"{r['batch']:>5} | {r['items_per_run']:>6} | {r['model_items_s']:>13.1f} |"
            f" {r['queue_items_s']:>8.1f} | {r['ratio']:>5.2f} | {'PASS' if r['pass'] else 'MISS'}"
        )
    print()
    for r in result["results"]:
        q = r["queue_median_run"]
        cpu = ", ".join(f"{k} {v:.0f}%" for k, v in q["cpu_pct"].items())
        calls = (
            f"{q['model_calls']} model calls, mean batch {q['mean_batch']},"
            f" {q['full_batches']} full"
            if q["model_calls"]
            else "batches not logged"
        )
        print(
            f"B={r['batch']}: median queue run {q['seconds']:.2f}s: {calls};"
            f" {q['xreadgroup_per_full_batch']} XREADGROUP per B items;"
            f" enqueue {q['enqueue_s']:.2f}s; {q['failed']} failed."
        )
        print(f"      CPU, % of one core: {cpu}")
        print(
            f"      load not ours: model runs {r['model_runs_other_load_pct']}%,"
            f" queue runs {r['queue_runs_other_load_pct']}%;"
            f" runs repeated for load: {r['runs_repeated_for_load']}"
        )
    print()
    print("JSON " + json.dumps(result, sort_keys=True))


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the benchmark ran past its overall limit")


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.alarm(TOTAL_LIMIT_S["quick" if args.quick else "full"])
    tmp = Path(tempfile.mkdtemp(prefix="satyamark-worker-bench-"))
    try:
        with asyncio.Runner() as runner:
            result = bench(args, tmp, runner)
    finally:
        signal.alarm(0)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
