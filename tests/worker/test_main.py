"""``python -m worker`` as a real process: loads, serves a job, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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


@asynccontextmanager
async def worker_process(redis_url: str, **env: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``python -m worker`` on ``redis_url`` (on the CPU, no WORKER_ setting but ``env``'s),
    its stdout and stderr in one pipe; killed on the way out if still running."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "worker",
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("WORKER_")},
            "REDIS_URL": redis_url,
            "CALLBACK_SECRET": CALLBACK_SECRET,
            "SATYAMARK_ENV": "test",
            "WORKER_DEVICE": "cpu",
            "WORKER_BLOCK_MS": "200",
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_process_serves_jobs_and_exits_cleanly_on_sigterm(
    make_settings: Callable[..., WorkerSettings],
    redis_url: str,
    database_url: str,
    conn: asyncpg.Connection,
    callback_server: CallbackServer,
) -> None:
    settings = make_settings()
    await upsert_records(conn, [KNOWN])
    # The real default encoder (bundled MiniLM): a random tiny one finds every sentence
    # alike, so the evidence it cites would mean nothing.
    async with worker_process(
        redis_url, DATABASE_URL=database_url, WORKER_CONSUMER="process-under-test"
    ) as proc:
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
    seen: list[str] = []
    async with worker_process(
        redis_url, WORKER_MODEL=str(tiny_model_path), WORKER_KNOWLEDGE_BASE="none"
    ) as proc:
        assert proc.stdout is not None

        async def waiting_for_redis() -> None:
            assert proc.stdout is not None
            while "Redis does not answer" not in "".join(seen[-1:]):
                line = await proc.stdout.readline()
                assert line, f"the worker gave up without Redis: {''.join(seen)}"
                seen.append(line.decode())

        await asyncio.wait_for(waiting_for_redis(), 60)
        server = RedisServer(tmp_path / "redis", port=port).start()
        try:
            settings = make_settings(redis_url=redis_url)
            job = make_job("I think pineapple pizza is the best food", callback_server.url)
            await enqueue(settings, [job])

            async def served() -> bool:
                return len(callback_server.received) == 1

            await eventually(served, timeout_s=60)
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 15) == 0
        finally:
            server.stop()
    assert proc.stdout is not None
    log = "".join(seen) + (await proc.stdout.read()).decode()
    assert "Redis does not answer" in log
    assert "Traceback" not in log
