"""bench/queue.py's cast: the processes it starts and the three systems it compares.

Ours (2 x ``bench/peers/ours_worker.py worker`` + the callback receiver), dramatiq and
saq (each in its own venv under bench/.venvs, created on first use), every process in
its own session so a run can always be stopped; and ``Harness``, the bench's own Redis
client, which counts its commands so they can be subtracted from ``INFO commandstats``.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench.procstat import process_tree
from satyamark.infra import free_port, port_answers
from shared import keys

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / "peers"
VENVS = ROOT / "bench" / ".venvs"
MAIN_PY = ROOT / ".venv" / "bin" / "python"
COUNTER = "bench:done"
SECRET = "bench-callback-secret-0123456789"
PEER_REQS = {"dramatiq": ["dramatiq[redis]"], "saq": ["saq[redis]", "typing_extensions"]}


def log(msg: str) -> None:
    print(f"[queue-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- processes ---------------------------------------------------------------------------

_procs: list[subprocess.Popen[bytes]] = []


def track(proc: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
    """Have ``stop_all`` stop ``proc`` too (a process not started by ``spawn``)."""
    _procs.append(proc)
    return proc


def spawn(
    args: list[str], *, env: dict[str, str], logfile: Path, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    out = open(logfile, "ab")
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    out.close()
    _procs.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 15) -> None:
    """SIGTERM the process group (a drain), then SIGKILL it after ``timeout_s``."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log(f"pid {proc.pid} ignored SIGTERM for {timeout_s:.0f}s; killing")
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the group (forked children)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    if proc in _procs:
        _procs.remove(proc)


def stop_all() -> None:
    for proc in list(_procs):
        stop(proc, 5)


# -- redis helpers -----------------------------------------------------------------------


@dataclass
class Harness:
    """The bench's own Redis client; counts its commands so they can be subtracted."""

    client: redis.Redis
    calls: collections.Counter[str] = field(default_factory=collections.Counter)

    def do(self, name: str, *args: Any) -> Any:
        self.calls[name.lower()] += 1
        return self.client.execute_command(name, *args)  # type: ignore[no-untyped-call]

    def commandstats(self) -> dict[str, int]:
        self.calls["info"] += 1
        info = self.client.info("commandstats")
        return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in info.items()}

    def counter(self) -> int:
        return int(self.do("GET", COUNTER) or 0)


def wait_for(
    check: Callable[[], bool], timeout_s: float, what: str, every_s: float = 0.005
) -> float:
    end = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > end:
            raise TimeoutError(f"{what} not reached within {timeout_s:.0f}s")
        time.sleep(every_s)
    return time.time()


# -- systems -----------------------------------------------------------------------------


def ensure_venv(name: str) -> Path:
    py = VENVS / name / "bin" / "python"
    if not py.exists():
        log(f"creating {VENVS / name} ({' '.join(PEER_REQS[name])})")
        subprocess.run([sys.executable, "-m", "venv", str(VENVS / name)], check=True, timeout=120)
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", *PEER_REQS[name]], check=True, timeout=600
        )
    return py


@dataclass
class System:
    name: str
    redis_url: str
    tmp: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    sleep_ms: int = 0

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BENCH_REDIS_URL": self.redis_url,
            "BENCH_COUNTER": COUNTER,
            "BENCH_SLEEP_MS": str(self.sleep_ms),
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, sleep_ms: int) -> None:
        raise NotImplementedError

    def ready(self, h: Harness) -> bool:
        return True

    def producer(self, n: int) -> list[str]:
        raise NotImplementedError

    def drained(self, h: Harness) -> bool:
        return True

    def worker_pids(self) -> list[int]:
        return [p for proc in self.procs for p in process_tree(proc.pid)]

    def stop(self) -> None:
        for proc in self.procs:
            stop(proc)
        self.procs.clear()


class Ours(System):
    def __init__(self, redis_url: str, tmp: Path, settings: dict[str, str]) -> None:
        super().__init__("satyamark", redis_url, tmp)
        self.settings = settings
        self.receiver: subprocess.Popen[bytes] | None = None
        self.port = 0

    def env(self) -> dict[str, str]:
        return {
            **super().env(),
            "REDIS_URL": self.redis_url,
            "CALLBACK_SECRET": SECRET,
            "BENCH_CALLBACK_URL": f"http://127.0.0.1:{self.port}/callback",
            **self.settings,
        }

    def start_receiver(self) -> None:
        self.port = free_port()
        self.receiver = spawn(
            [str(MAIN_PY), str(PEERS / "receiver.py"), "--port", str(self.port),
             "--redis", self.redis_url, "--counter", COUNTER],
            env=self.env(), logfile=self.tmp / "receiver.log",
        )  # fmt: skip
        wait_for(lambda: port_answers("127.0.0.1", self.port, 0.2), 30, "receiver up", 0.1)

    def start(self, sleep_ms: int, extra_env: dict[str, str] | None = None) -> None:
        self.sleep_ms = sleep_ms
        if self.receiver is None:
            self.start_receiver()
        env = {**self.env(), **(extra_env or {})}
        for i in range(2):
            self.procs.append(
                spawn([str(MAIN_PY), str(PEERS / "ours_worker.py"), "worker"],
                      env=env, logfile=self.tmp / f"ours-worker-{i}.log")
            )  # fmt: skip

    def consumer_pids(self, h: Harness) -> dict[str, int]:
        try:
            rows = h.client.xinfo_consumers(keys.JOB_STREAM, keys.WORKER_GROUP)
        except redis.ResponseError:
            return {}
        names = {
            str(r["name"].decode() if isinstance(r["name"], bytes) else r["name"]) for r in rows
        }
        out = {}
        for proc in self.procs:
            for name in names:
                if name.endswith(f"-{proc.pid}"):
                    out[name] = proc.pid
        return out

    def ready(self, h: Harness) -> bool:
        h.calls["xinfo"] += 1
        return len(self.consumer_pids(h)) == len(self.procs)

    def producer(self, n: int) -> list[str]:
        return [str(MAIN_PY), str(PEERS / "ours_worker.py"), "produce", str(n)]

    def drained(self, h: Harness) -> bool:
        return int(h.do("XLEN", keys.JOB_STREAM)) == 0

    def stop(self) -> None:
        super().stop()

    def stop_receiver(self) -> None:
        if self.receiver is not None:
            stop(self.receiver)
            self.receiver = None


class Peer(System):
    """A peer queue: its workers run ``python -m <WORKER...>`` in its own venv
    (bench/.venvs/<name>), its producer bench/peers/<name>_peer.py."""

    WORKER: tuple[str, ...] = ()

    def __init__(self, name: str, redis_url: str, tmp: Path) -> None:
        super().__init__(name, redis_url, tmp)
        self.py = ensure_venv(name)

    def start(self, sleep_ms: int) -> None:
        self.sleep_ms = sleep_ms
        self.log = self.tmp / f"{self.name}-{sleep_ms}.log"
        self.procs.append(
            spawn([str(self.py), "-m", *self.WORKER], env=self.env(), logfile=self.log, cwd=PEERS)
        )

    def producer(self, n: int) -> list[str]:
        return [str(self.py), str(PEERS / f"{self.name}_peer.py"), "produce", str(n)]


class Dramatiq(Peer):
    WORKER = ("dramatiq", "dramatiq_peer", "--processes", "2", "--threads", "8")

    def __init__(self, redis_url: str, tmp: Path) -> None:
        super().__init__("dramatiq", redis_url, tmp)

    def ready(self, h: Harness) -> bool:
        return self.log.read_text(errors="replace").count("ready for action") >= 2


class Saq(Peer):
    WORKER = ("saq", "saq_peer.settings", "--workers", "2")

    def __init__(self, redis_url: str, tmp: Path) -> None:
        super().__init__("saq", redis_url, tmp)

    def env(self) -> dict[str, str]:
        return {**super().env(), "PYTHONPATH": str(PEERS)}

    def ready(self, h: Harness) -> bool:
        # saq says nothing when a worker is up: both processes (the main one runs a
        # worker and starts the other) must exist; the warm-up then shows they consume.
        return len(process_tree(self.procs[0].pid)) >= 2
