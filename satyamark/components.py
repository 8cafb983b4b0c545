"""One component of the local stack: its process, and when to restart it after it died."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# A component that exits sooner than this after its start waits a doubling backoff
# before the next one (its dependency is likely down: do not spin); later, none.
STAYED_UP_S = 10.0
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0


@dataclass
class Component:
    name: str  # e.g. "ws_service-2"
    module: str
    env: dict[str, str]
    port: int | None
    log_path: Path
    metrics_port: int | None = None  # /metrics, /livez, /readyz (shared/metrics_server.py)
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    backoff_s: float = 0.0  # waited before the latest restart
    restart_at: float | None = None  # when this exited component starts again

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.restart_at = None
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart_time(self, now: float) -> float:
        """When this exited component is to start again, fixed when first asked after
        it exited: at once if it had stayed up, else after a doubling backoff."""
        if self.restart_at is None:
            exited_soon = now - self.started_at < STAYED_UP_S
            longer = min(max(2 * self.backoff_s, FIRST_BACKOFF_S), MAX_BACKOFF_S)
            self.backoff_s = longer if exited_soon else 0.0
            self.restart_at = now + self.backoff_s
        return self.restart_at

    def signal(self, sig: int) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> None:
        if not self.alive:
            return
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
