"""CPU use read from /proc, shared by the benchmarks (Linux only).

Imported as ``bench.procstat`` with the repository root on sys.path: the benchmarks keep
their own folder off sys.path, since bench/worker.py would shadow the worker package.
"""

from __future__ import annotations

import collections
import os
import time

TICK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` (all its threads); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_seconds(pids: list[int]) -> float:
    """Total CPU seconds of ``pids``; processes that are gone count as 0."""
    return sum(v for v in map(process_cpu_seconds, pids) if v is not None)


def machine_ticks() -> list[int]:
    """The aggregate ``cpu`` line of /proc/stat: user nice system idle iowait irq softirq
    steal …"""
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1:]]


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy (not idle, not waiting for I/O) since boot."""
    ticks = machine_ticks()
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICK


def machine_busy_pct(seconds: float = 2.0) -> float:
    """Busy % of all cores (100 = one core) over the next ``seconds``."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return round(100 * (machine_busy_seconds() - before) / seconds, 1)


def postgres_pids() -> list[int]:
    """Every PostgreSQL process on the machine (backends come and go)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in ("postgres", "postmaster"):
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out
