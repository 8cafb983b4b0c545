"""CPU load for bench/worker.py on a shared host: CPU use per process group over a run,
waiting for a quiet machine, and measuring a run again when other jobs loaded it; and the
bench's log line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bench.procstat import (
    cpu_seconds,
    machine_busy_pct,
    machine_busy_seconds,
    postgres_pids,
)

QUIET_PCT = 25.0  # % of one core: "nearly idle" before a timed run
OTHER_MAX_PCT = 30.0  # % of one core used by others during a run that still counts


def log(msg: str) -> None:
    print(f"[worker-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


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
