"""``satyamark run`` itself through Redis and PostgreSQL outages, start-up included.

The command runs as a subprocess (1 worker with a tiny model, 1 ws_service instance)
against a private Redis and PostgreSQL, on free ports:

1. Redis is killed right after the command starts, before the worker can join, and
   left down for three of the supervisor's reports (long enough for the worker, unable
   to join, to exit and be restarted). The supervisor stays alive and says it waits for Redis;
   Redis comes back empty and the command prints "SatyaMark is up" and keeps running;
2. PostgreSQL is shut down and started again while it runs: it stays alive;
3. SIGINT stops it with status 0, leaving no component process behind.

SIGINT while it still waits for Redis stops it as cleanly; and a component that keeps
dying soon after its start is restarted after a doubling backoff.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from satyamark.components import Component
from satyamark.infra import PostgresServer, RedisServer
from tests.utils.tiny_models import build_tiny_encoder

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
REDIS_DOWN_REPORTS = 3  # the supervisor reports every 5 s
SEEN_WAITING_S = 40.0
UP_S = 60.0  # worker restarts wait up to 10 s each, then load the model
STOP_S = 30.0


class Supervisor:
    """The ``satyamark run`` process and the lines it printed (read by a thread, so a
    full pipe never blocks it)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "satyamark", "run", "--workers", "1", "--ws-instances", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a Ctrl-C on pytest must not reach it unasked
        )
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()
        with self._new_line:
            self._new_line.notify_all()  # the output ended: waiters stop waiting

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(
        self, wanted: Callable[[str], bool], timeout: float, what: str, count: int = 1
    ) -> None:
        """Wait up to ``timeout`` until ``count`` printed lines are ``wanted``."""
        end = time.monotonic() + timeout
        with self._new_line:
            while True:
                if sum(map(wanted, self.lines)) >= count:
                    return
                left = end - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise AssertionError(f"no {what} within {timeout:.0f}s:\n{self.output}")
                self._new_line.wait(left)

    def assert_alive(self) -> None:
        assert self.proc.poll() is None, f"the supervisor exited:\n{self.output}"

    def interrupt(self) -> None:
        """Ctrl-C: it stops everything and exits 0, leaving no component behind."""
        self.proc.send_signal(signal.SIGINT)
        assert self.proc.wait(STOP_S) == 0, self.output
        self._reader.join(5)  # the rest of its output
        assert "Traceback" not in self.output, self.output

    def close(self) -> None:
        """Stop it however it is (used on failure too)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _processes_with(marker: str) -> list[int]:
    """Pids of the processes whose environment holds ``marker``: the components run in
    sessions of their own, so this is how any left behind are found."""
    wanted = marker.encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if wanted in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis", appendonly=False).start()
    yield server
    server.stop()


@pytest.fixture
def private_postgres() -> Iterator[PostgresServer]:
    root = Path(tempfile.mkdtemp(prefix="satyamark-run-pg-"))
    # as root the cluster runs as the postgres user, who cannot enter pytest's tmp_path
    root.chmod(0o711)
    server = PostgresServer(root / "postgres", durable=False).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _kill_redis(server: RedisServer) -> None:
    """kill -9: a crash, nothing saved (no persistence), left down."""
    assert server.proc is not None
    server.proc.kill()
    server.proc.wait(10)


@contextmanager
def _run_command(
    tmp_path: Path, redis_server: RedisServer, postgres: PostgresServer, reports: int
) -> Iterator[Supervisor]:
    """``satyamark run`` with Redis killed right after it started (before the worker
    can join) and still down after ``reports`` reports that it waits for Redis;
    afterwards nothing it started is left running, whatever happened."""
    data_dir = tmp_path / "data"
    # the components inherit it: how those left behind are found
    marker = f"SATYAMARK_DATA_DIR={data_dir}"
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": postgres.url,
        "SATYAMARK_DATA_DIR": str(data_dir),
        "SATYAMARK_FREE_PORTS": "1",
        "WORKER_MODEL": str(build_tiny_encoder(tmp_path / "tiny-model")),
        "WORKER_BLOCK_MS": "1000",
        "PYTHONUNBUFFERED": "1",
    }
    supervisor = Supervisor(env)
    try:
        _kill_redis(redis_server)
        supervisor.wait_for(
            lambda line: line.startswith("waiting for:") and "Redis (" in line,
            SEEN_WAITING_S,
            f"{reports} 'waiting for:' lines naming Redis",
            reports,
        )
        supervisor.assert_alive()
        yield supervisor
        assert not _processes_with(marker), f"left running:\n{supervisor.output}"
    finally:
        supervisor.close()
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)


def test_run_waits_out_outages(
    tmp_path: Path, private_redis: RedisServer, private_postgres: PostgresServer
) -> None:
    with _run_command(tmp_path, private_redis, private_postgres, REDIS_DOWN_REPORTS) as supervisor:
        assert "SatyaMark is up" not in supervisor.output
        private_redis.start()  # the same port, empty
        supervisor.wait_for(lambda line: "SatyaMark is up" in line, UP_S, "'is up'")
        supervisor.assert_alive()

        private_postgres.stop()
        time.sleep(3)
        supervisor.assert_alive()
        private_postgres.start()
        time.sleep(2)
        supervisor.assert_alive()
        supervisor.interrupt()


def test_ctrl_c_while_waiting_for_redis(
    tmp_path: Path, private_redis: RedisServer, private_postgres: PostgresServer
) -> None:
    with _run_command(tmp_path, private_redis, private_postgres, 1) as supervisor:
        supervisor.interrupt()
        assert "SatyaMark is up" not in supervisor.output


def test_restart_backoff(tmp_path: Path) -> None:
    component = Component("worker-1", "worker", {}, None, tmp_path / "worker-1.log")
    now = 0.0
    waits = []
    for _ in range(7):
        component.started_at, component.restart_at = now, None  # as start() sets them
        now += 1.0  # died a second after its start
        waits.append(component.restart_time(now) - now)
        now += waits[-1]
    assert waits == [0.5, 1, 2, 4, 8, 10, 10]
    # once it stayed up, the next death restarts it at once and the backoff starts over
    component.started_at, component.restart_at = now, None
    now += 60.0
    assert component.restart_time(now) == now
    component.started_at, component.restart_at = now, None
    assert component.restart_time(now + 1.0) == now + 1.5
