"""Private Redis and PostgreSQL servers for the run command and the tests.

Used when no REDIS_URL / DATABASE_URL is given and nothing answers on the default
ports, and by tests that need servers of their own. PostgreSQL refuses to run as root,
so as root the cluster is created and started as the ``postgres`` system user (the
processes themselves switch user, so a signal to ``proc`` reaches PostgreSQL).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_for_port(
    host: str, port: int, deadline_s: float, proc: subprocess.Popen[bytes] | None, what: str
) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if port_answers(host, port, 0.2):
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before it answered")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer on {host}:{port} within {deadline_s:.0f}s")


def find_pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found (run scripts/bootstrap)")
    return candidates[0]


@dataclass
class _Server:
    """A server process of ours, its files in ``data_dir``, on ``port`` (0: a free one)."""

    data_dir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    # How ``stop`` asks it to stop, and how long it waits before killing it.
    stop_signal: ClassVar[int] = signal.SIGTERM
    stop_timeout_s: ClassVar[float] = 10

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class RedisServer(_Server):
    """A redis-server in ``data_dir``; AOF on (it carries the queue)."""

    appendonly: bool = True

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        binary = shutil.which("redis-server")
        if not binary:
            raise RuntimeError("redis-server not found (run scripts/bootstrap)")
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "everysec",
            "--daemonize",
            "no",
            "--logfile",
            "redis.log",
        ]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        _wait_for_port("127.0.0.1", self.port, 15, self.proc, "redis-server")
        return self


@dataclass
class PostgresServer(_Server):
    """A private PostgreSQL cluster in ``data_dir`` with trust auth on 127.0.0.1."""

    # Tests trade durability for speed; the run command keeps fsync on.
    durable: bool = True
    # SIGINT is PostgreSQL's "fast" shutdown (proc is the postmaster itself).
    stop_signal: ClassVar[int] = signal.SIGINT
    stop_timeout_s: ClassVar[float] = 20

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/satyamark"

    def _as_owner(self) -> dict[str, Any]:
        """Popen arguments that make the process itself run as ``postgres`` (as root).

        Not through ``runuser``: it stays the parent of PostgreSQL and does not pass
        SIGINT on, so ``stop`` would time out, kill runuser and leave PostgreSQL running.
        """
        if os.geteuid() != 0:
            return {}
        pw = pwd.getpwnam("postgres")
        return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": [], "cwd": self.data_dir}

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def start(self) -> PostgresServer:
        self.port = self.port or free_port()
        pgdata = self.data_dir / "pgdata"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.data_dir)
        if not (pgdata / "PG_VERSION").exists():
            subprocess.run(
                [
                    find_pg_bin("initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                **self._as_owner(),
            )
        log = open(self.data_dir / "postgres.log", "ab")  # the child keeps its own copy
        self.proc = subprocess.Popen(
            [
                find_pg_bin("postgres"),
                "-D",
                str(pgdata),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.data_dir),
                "-c",
                "max_connections=300",
                *([] if self.durable else ["-c", "fsync=off", "-c", "synchronous_commit=off"]),
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            **self._as_owner(),
        )
        log.close()
        _wait_for_port("127.0.0.1", self.port, 30, self.proc, "postgres")
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        isready = find_pg_bin("pg_isready")
        end = time.monotonic() + 30
        while time.monotonic() < end:
            done = subprocess.run(
                [isready, "-h", "127.0.0.1", "-p", str(self.port), "-q"], check=False
            )
            if done.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not become ready")
