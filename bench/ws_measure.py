"""What bench/ws.py measures around the sockets: the memory and CPU of the processes
and the machine, and events published at a target rate with the deliveries they made."""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from bench.pipeline_common import ms, pct
from bench.procstat import cpu_seconds, machine_busy_seconds
from shared.notify import UserNotifier

NOFILE = 65536
PUBLISHERS = 64  # concurrent publish calls at most


# -- process and machine figures ---------------------------------------------------------


def raise_nofile(want: int = NOFILE) -> int:
    """Raise this process's open-file limit (children inherit it); the soft limit got."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def kernel_kib() -> dict[str, int]:
    """Kernel memory that grows with sockets, whole machine: slab caches (socket,
    inode, file objects) and TCP buffers."""
    out = {"tcp_buffers": tcp_mem_kib()}
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                out["slab"] = int(line.split()[1])
    return out


def tcp_mem_kib() -> int:
    """Memory the kernel holds in TCP buffers, whole machine (/proc/net/sockstat)."""
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                return int(fields[fields.index("mem") + 1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return 0


@dataclass
class Watched:
    """The processes whose memory and CPU a path is judged by."""

    pids: dict[str, list[int]]

    def rss(self) -> dict[str, int]:
        return {name: sum(map(rss_kib, pids)) for name, pids in self.pids.items()}


class Sampler:
    """Peak RSS and CPU % (of one core) of named process groups over an interval."""

    def __init__(self, watched: Watched, groups: dict[str, list[int]]) -> None:
        self.watched = watched
        self.groups = groups
        self.peak: dict[str, int] = {}
        self._cpu0: dict[str, float] = {}
        self._busy0 = 0.0
        self._t0 = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            rss = self.watched.rss() | {"kernel tcp buffers": tcp_mem_kib()}
            for name, kib in rss.items():
                self.peak[name] = max(self.peak.get(name, 0), kib)
            await asyncio.sleep(0.25)

    def begin(self) -> None:
        self._cpu0 = {name: cpu_seconds(pids) for name, pids in self.groups.items()}
        self._busy0 = machine_busy_seconds()
        self._t0 = time.monotonic()
        self._task = asyncio.create_task(self._sample())

    async def end(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self._t0
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        cpu = {
            name: round(100 * (cpu_seconds(pids) - self._cpu0[name]) / elapsed, 1)
            for name, pids in self.groups.items()
        }
        busy = round(100 * (machine_busy_seconds() - self._busy0) / elapsed, 1)
        cpu["MACHINE other load"] = round(max(0.0, busy - sum(cpu.values())), 1)
        return {"cpu_pct": cpu, "peak_kib": dict(self.peak)}


# -- publishing ------------------------------------------------------------------------------


@dataclass
class Published:
    started: float = 0.0  # epoch seconds of the first publish
    seconds: float = 0.0
    count: int = 0
    expected: int = 0  # deliveries: sum of the sockets of the users published to
    errors: Counter[str] = field(default_factory=Counter)
    call_s: list[float] = field(default_factory=list)  # each publish call's round trip


def event(tag: str, n: int, pad: int) -> dict[str, object]:
    """A result-shaped event (unique taskId) with ``sentAt`` stamped now."""
    return {
        "type": "result",
        "taskId": f"bench-{tag}-{n}",
        "mark": "verified",
        "reason": "x" * pad,
        "confidence": 0.9,
        "claims": [],
        "method": "bench",
        "sentAt": time.time(),
    }


async def publish_at_rate(
    notifier: UserNotifier,
    targets: list[tuple[str, int]],
    per_s: float,
    duration_s: float,
    *,
    tag: str,
    pad: int = 200,
) -> Published:
    """Publish to ``targets`` (userId, its sockets) round robin, ``per_s`` a second for
    ``duration_s``: publish n is due at start + n/per_s, ``PUBLISHERS`` calls at most
    in flight (a late one goes at once)."""
    out = Published(started=time.time())
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    total = int(per_s * duration_s)

    async def publisher(j: int) -> None:
        for n in range(j, total, PUBLISHERS):
            due = t0 + n / per_s
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            user_id, sockets = targets[n % len(targets)]
            c0 = time.perf_counter()
            try:
                await notifier.publish_event(user_id, event(tag, n, pad))
            except (RedisError, OSError) as exc:
                out.errors[type(exc).__name__] += 1
                continue
            out.call_s.append(time.perf_counter() - c0)
            out.count += 1
            out.expected += sockets

    await asyncio.gather(*(publisher(j) for j in range(min(PUBLISHERS, total))))
    out.seconds = loop.time() - t0
    return out


def delivery_figures(pub: Published, got: dict[str, Any]) -> dict[str, Any]:
    # late deliveries of an earlier phase (sent before this one began) do not count
    pairs = [
        (lat, at)
        for lat, at in zip(got["latencies"], got["arrivals"], strict=True)
        if at - lat >= pub.started - 0.001
    ]
    lat = [p[0] for p in pairs]
    arrivals = [p[1] for p in pairs]
    span = (max(arrivals) - pub.started) if arrivals else pub.seconds
    return {
        "publishes": pub.count,
        "publish_errors": dict(pub.errors),
        "publishes_per_s": round(pub.count / pub.seconds, 1) if pub.seconds else 0.0,
        "publish_call_p99_ms": ms(pct(pub.call_s, 99)),
        "expected": pub.expected,
        "received": len(lat),
        "lost": pub.expected - len(lat),
        "deliveries_per_s": round(len(lat) / span, 1) if span > 0 else 0.0,
        "p50_ms": ms(pct(lat, 50)),
        "p99_ms": ms(pct(lat, 99)),
        "max_ms": ms(max(lat)) if lat else None,
        "earlier_phases_late": len(got["latencies"]) - len(lat),
        "closed_sockets": got["closes"],
        "other_frames": got["kinds"],
    }
