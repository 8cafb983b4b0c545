"""``python -m worker`` as a real process: loads, serves a job, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg

from satyamark.infra import RedisServer, free_port
from shared.knowledge import KbRecord, upsert_records
from shared.schemas import Mark
from tests.utils.settings import CALLBACK_SECRET
from worker.config import WorkerSettings

from .helpers import CallbackServer, enqueue, eventually, make_job, pending_count

ROOT = Path(__file__).resolve().parents[2]
KNOWN = KbRecord(
    claim="Water boils at 100 degrees Celsius at sea level.",
    verdict=True,
    explanation="At standard pressure the boiling point of water is 100 °C.",
    source_url="https://en.wikipedia.org/wiki/Boiling_point",
    source_name="Wikipedia",
)


async def test_process_serves_jobs_and_exits_cleanly_on_sigterm(
    make_settings: Callable[..., WorkerSettings],
    redis_url: str,
    database_url: str,
    callback_server: CallbackServer,
) -> None:
    settings = make_settings()
    conn = await asyncpg.connect(database_url)
    try:
        await upsert_records(conn, [KNOWN])
    finally:
        await conn.close()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKER_")},
        "REDIS_URL": redis_url,
        "CALLBACK_SECRET": CALLBACK_SECRET,
        "SATYAMARK_ENV": "test",
        "DATABASE_URL": database_url,
        # The real default encoder (bundled MiniLM): a random tiny one finds every
        # sentence alike, so the evidence it cites would mean nothing.
        "WORKER_DEVICE": "cpu",
        "WORKER_BLOCK_MS": "200",
        "WORKER_CONSUMER": "process-under-test",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "worker", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        jobs = [
            make_job("I think pineapple pizza is the best food", callback_server.url),
            make_job(KNOWN.claim, callback_server.url),
        ]
        await enqueue(settings, jobs)

        async def served() -> bool:
            return len(callback_server.received) == 2 and not await pending_count(settings)

        await eventually(served, timeout_s=60)
        results = {r.taskId: r for r in callback_server.received}
        assert {r.workerId for r in results.values()} == {"process-under-test"}
        opinion, fact = (results[job.taskId] for job in jobs)
        assert opinion.mark is Mark.SUBJECTIVE
        # The knowledge base was read from PostgreSQL: the known claim is cited.
        assert fact.mark is Mark.CORRECT, fact.reason
        assert fact.claims[0].evidence is not None
        assert fact.claims[0].evidence.sourceUrl == KNOWN.source_url
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.stdout is not None
    log = (await proc.stdout.read()).decode()
    assert "stopped" in log
    assert "Traceback" not in log


async def test_a_worker_started_before_redis_joins_once_redis_answers(
    make_settings: Callable[..., WorkerSettings],
    callback_server: CallbackServer,
    tiny_model_path: Path,
    tmp_path: Path,
) -> None:
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKER_")},
        "REDIS_URL": redis_url,
        "CALLBACK_SECRET": CALLBACK_SECRET,
        "SATYAMARK_ENV": "test",
        "WORKER_MODEL": str(tiny_model_path),
        "WORKER_KNOWLEDGE_BASE": "none",
        "WORKER_DEVICE": "cpu",
        "WORKER_BLOCK_MS": "200",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "worker", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    server = None
    seen: list[str] = []
    try:
        assert proc.stdout is not None

        async def waiting_for_redis() -> None:
            assert proc.stdout is not None
            while "Redis does not answer" not in "".join(seen[-1:]):
                line = await proc.stdout.readline()
                assert line, f"the worker gave up without Redis: {''.join(seen)}"
                seen.append(line.decode())

        await asyncio.wait_for(waiting_for_redis(), 60)
        server = RedisServer(tmp_path / "redis", port=port).start()
        settings = make_settings(redis_url=redis_url)
        job = make_job("I think pineapple pizza is the best food", callback_server.url)
        await enqueue(settings, [job])

        async def served() -> bool:
            return len(callback_server.received) == 1

        await eventually(served, timeout_s=60)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        if server is not None:
            server.stop()
    assert proc.stdout is not None
    log = "".join(seen) + (await proc.stdout.read()).decode()
    assert "Redis does not answer" in log
    assert "Traceback" not in log
