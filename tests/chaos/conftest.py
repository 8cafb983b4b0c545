"""A private stack per chaos test: its own Redis (no persistence) and PostgreSQL (no
fsync) in temporary directories, so a test may kill those too."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from satyamark.devstack import Stack, StackOptions
from satyamark.infra import PostgresServer, RedisServer
from tests.utils.tiny_models import build_tiny_encoder

RULES = {
    name: {"capacity": 100_000, "refill_per_s": 10_000}
    for name in ("verify", "tasks", "ws", "auth", "login-fail")
}


@dataclass
class ChaosStack:
    redis: RedisServer
    pg_root: Path
    postgres: PostgresServer | None = None
    stack: Stack | None = None

    @property
    def s(self) -> Stack:
        assert self.stack is not None
        return self.stack

    def stop_redis(self) -> None:
        """kill -9 Redis and leave it down (a crash: nothing is saved, no persistence)."""
        proc = self.redis.proc
        assert proc is not None
        proc.kill()
        proc.wait(10)

    def start_redis(self) -> None:
        """Start Redis again on the same port, empty; returns once it answers."""
        self.redis.start()

    def kill_redis(self) -> None:
        """kill -9 Redis and start it again on the same port, empty (no persistence)."""
        self.stop_redis()
        self.start_redis()

    def stop_postgres(self) -> None:
        """Shut PostgreSQL down ("fast": clients are disconnected) and leave it down."""
        assert self.postgres is not None
        self.postgres.stop()

    def start_postgres(self) -> None:
        """Start PostgreSQL again on the same port and data; returns once it is ready."""
        assert self.postgres is not None
        self.postgres.start()

    def restart_postgres(self) -> None:
        self.stop_postgres()
        self.start_postgres()

    def stop(self) -> None:
        """Stop every process this stack started (components, then the servers)."""
        if self.stack is not None:
            self.stack.stop()
        if self.postgres is not None:
            self.postgres.stop()
        self.redis.stop()
        shutil.rmtree(self.pg_root, ignore_errors=True)


def _start(chaos: ChaosStack, root: Path, workers: int, ws: int, env: dict[str, str]) -> None:
    chaos.redis.start()
    # as root the cluster runs as the postgres user, who cannot enter pytest's tmp_path
    chaos.pg_root.chmod(0o711)
    chaos.postgres = PostgresServer(chaos.pg_root / "postgres", durable=False)
    chaos.postgres.start()
    options = StackOptions(
        data_dir=root / "data",
        redis_url=chaos.redis.url,
        database_url=chaos.postgres.url,
        workers=workers,
        ws_instances=ws,
        default_ports=False,
        worker_model=str(build_tiny_encoder(root / "tiny-model")),
        extra_env={"RATELIMIT_RULES": json.dumps(RULES), "WORKER_BLOCK_MS": "1000", **env},
    )
    chaos.stack = Stack(options)
    chaos.stack.start()


@asynccontextmanager
async def chaos_stack(
    root: Path, *, workers: int, ws_instances: int, env: dict[str, str]
) -> AsyncIterator[ChaosStack]:
    """Start it all (in a thread: ``Stack.start`` runs event loops of its own)."""
    chaos = ChaosStack(
        RedisServer(root / "redis", appendonly=False),
        Path(tempfile.mkdtemp(prefix="satyamark-chaos-pg-")),
    )
    try:
        await asyncio.to_thread(_start, chaos, root, workers, ws_instances, env)
        yield chaos
    finally:
        await asyncio.to_thread(chaos.stop)
