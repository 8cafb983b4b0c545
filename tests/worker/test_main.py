"""``python -m worker`` as a real process: loads, serves a job, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from tests.utils.settings import CALLBACK_SECRET
from worker.config import WorkerSettings

from .helpers import CallbackServer, enqueue, eventually, make_job, pending_count

ROOT = Path(__file__).resolve().parents[2]


async def test_process_serves_jobs_and_exits_cleanly_on_sigterm(
    make_settings: Callable[..., WorkerSettings],
    tiny_model_path: Path,
    redis_url: str,
    callback_server: CallbackServer,
) -> None:
    settings = make_settings()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKER_")},
        "REDIS_URL": redis_url,
        "CALLBACK_SECRET": CALLBACK_SECRET,
        "SATYAMARK_ENV": "test",
        "WORKER_MODEL": str(tiny_model_path),
        "WORKER_DEVICE": "cpu",
        "WORKER_BLOCK_MS": "200",
        "WORKER_CONSUMER": "process-under-test",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "worker", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        job = make_job("I think pineapple pizza is the best food", callback_server.url)
        await enqueue(settings, [job])

        async def served() -> bool:
            return len(callback_server.received) == 1 and not await pending_count(settings)

        await eventually(served, timeout_s=60)
        assert callback_server.received[0].workerId == "process-under-test"
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.stderr is not None
    log = (await proc.stderr.read()).decode()
    assert "stopped" in log
    assert "Traceback" not in log
