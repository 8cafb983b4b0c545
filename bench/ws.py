"""WebSocket benchmark: what holding and pushing to many sockets costs.

    .venv/bin/python bench/ws.py --sockets 500     # small run, about 1.5 min
    .venv/bin/python bench/ws.py                   # 10,000 sockets per path
    .venv/bin/python bench/ws.py --paths prod      # only the production path

Starts the whole stack as processes (``satyamark.devstack.Stack``, one ws_service, no
workers) on a private Redis and a fresh database, registers users through the gateway
(``POST /v1/auth/register``) and then, for each path:

  prod  sockets straight to ws_service's ``/ws`` (what an edge proxy forwards to);
  dev   sockets to the gateway's ``/v1/ws``, which relays each to ws_service.

For a path it measures
  a. memory per socket: RSS of ws_service (and the gateway on the dev path) before and
     after the sockets are up, divided by the sockets (and the marginal figure over
     the second half); the kernel's TCP buffer pages (whole machine) alongside;
  b. pushes: events published the platform's way (``shared.notify.UserNotifier``:
     logged in the user's stream, published to the instance's channel) at a target rate
     of deliveries/s, each carrying ``sentAt``; latency is measured at the clients;
  c. a slow reader: one more socket, of a user of its own, that never reads (tiny
     receive buffer) while its user is flooded, during the same push load: did the
     others' p99 change, and what happened to it (close code, after how long).

Sockets authenticate with a first ``auth`` message (the browser way); a few users share
each token (``--users``). The load client is one process per core (asyncio +
``websockets``), offering permessage-deflate as browsers do (``--no-deflate``: not).
The stack, Redis, PostgreSQL and the clients share this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __name__ == "__mp_main__":  # a load client: the parent's sys.path holds the root
    import bench._root  # noqa: F401
elif not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401

import orjson
from redis.exceptions import RedisError
from ulid import ULID
from websockets.asyncio.client import ClientConnection, connect

from bench.pipeline_client import Client, User
from bench.pipeline_common import log, ms, pct, run_main
from bench.pipeline_infra import Infra, bench_infra
from bench.procstat import (
    cpu_seconds,
    machine_busy_pct,
    machine_busy_seconds,
    process_tree,
)
from bench.ws_client import ClientPool, SlowReader, Spec
from satyamark.devstack import Stack
from satyamark.infra import free_port, port_answers
from shared import keys
from shared.notify import UserNotifier
from shared.redis_client import create_redis

ROOT = Path(__file__).resolve().parents[1]
WS = "ws_service-1"
EDGE_CONF = ROOT / "deploy" / "edge" / "nginx.conf.template"
NGINX = "/usr/sbin/nginx"
NOFILE = 65536
PUBLISHERS = 64  # concurrent publish calls at most
DRAIN_S = 2.0  # wait for late deliveries after the last publish
TARGETS = {
    "sockets_per_process": (">=", 10_000, "sockets one ws_service holds"),
    "rss_kib_per_socket": ("<=", 40.0, "ws_service RSS KiB per socket"),
    "push_p99_ms": ("<=", 50.0, "push p99 ms"),
    "deliveries_per_s": (">=", 20_000, "deliveries/s"),
}


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


# -- one path --------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    stack: Stack
    pool: ClientPool
    redis: Any  # the publisher's client (redis.asyncio.Redis)
    notifier: UserNotifier
    redis_pid: int
    users: list[User]
    slow_users: dict[str, User]
    edge: Edge | None = None

    def groups(self, watched: Watched) -> dict[str, list[int]]:
        return {
            **watched.pids,
            "redis": [self.redis_pid],
            "load clients": self.pool.pids,
            "bench (publisher)": [os.getpid()],
        }


class Edge:
    """nginx with deploy/edge/nginx.conf.template (rendered as tests/e2e/test_edge.py
    does) in front of this stack's gateway and ws_service."""

    def __init__(self, stack: Stack, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o755)  # run as root, the workers are `nobody`
        self.port = free_port()
        values = {
            "EDGE_LISTEN": f"127.0.0.1:{self.port}",
            "EDGE_GATEWAY_SERVERS": f"server 127.0.0.1:{stack.components['gateway'].port};",
            "EDGE_WS_SERVERS": f"server 127.0.0.1:{stack.components[WS].port};",
            "EDGE_ACCESS_LOG": str(root / "access.log"),
            "EDGE_TEMP_DIR": str(root),
        }
        conf = root / "nginx.conf"
        text = re.sub(r"\$\{(EDGE_\w+)\}", lambda m: values[m.group(1)], EDGE_CONF.read_text())
        conf.write_text(text)
        main = f"daemon off; pid {root / 'nginx.pid'}; error_log {root / 'error.log'} notice;"
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(root), "-c", str(conf), "-g", main],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while not port_answers("127.0.0.1", self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {(root / 'error.log').read_text()}")
            time.sleep(0.1)
        time.sleep(0.5)  # the workers

    @property
    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def path_url(run: Run, path: str) -> str:
    if path == "prod":
        return f"ws://127.0.0.1:{run.stack.components[WS].port}/ws"
    if path == "edge":
        assert run.edge is not None
        return f"ws://127.0.0.1:{run.edge.port}/v1/ws"
    return run.stack.gateway_url.replace("http://", "ws://", 1) + "/v1/ws"


async def push_phase(
    run: Run, watched: Watched, path: str, tag: str, rate: float
) -> dict[str, Any]:
    per_user = Counter(u for _, u in run_specs(run, path))
    targets = [(u.user_id, per_user[u.user_id]) for u in run.users if per_user[u.user_id]]
    per_s = rate / (sum(s for _, s in targets) / len(targets))
    await run.pool.collect()  # forget what came before
    sampler = Sampler(watched, run.groups(watched))
    sampler.begin()
    pub = await publish_at_rate(run.notifier, targets, per_s, run.args.duration, tag=tag)
    await asyncio.sleep(DRAIN_S)
    out = delivery_figures(pub, await run.pool.collect())
    out["target_deliveries_per_s"] = rate
    out.update(await sampler.end())
    return out


def run_specs(run: Run, path: str) -> list[Spec]:
    """The sockets of ``path``: users round robin. The dev path holds two descriptors
    per socket in the gateway, so it gets fewer when the open-file limit is short."""
    users, count = run.users, run.args.sockets
    if path == "dev":
        count = min(count, (run.args.nofile - 1500) // 2)
    picked = (users[i % len(users)] for i in range(count))
    return [(u.token, u.user_id) for u in picked]


def log_lines(path: Path, start: int, needle: str) -> list[str]:
    """Lines of ``path`` after byte ``start`` that mention ``needle`` (their ends)."""
    with open(path, errors="replace") as f:
        f.seek(start)
        return [line.strip()[-200:] for line in f if needle in line]


class ReadingSocket:
    """The control for the slow reader: a socket of the same user that does read."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.latencies: list[float] = []
        self.ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await connect(self.url, compression=None, proxy=None, max_size=2**20)
        await self.ws.send(orjson.dumps({"type": "auth", "token": self.token}).decode())
        await asyncio.wait_for(self.ws.recv(), 15)  # ready
        self._task = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        async for message in ws:
            sent_at = orjson.loads(message).get("sentAt")
            if sent_at is not None:
                self.latencies.append(time.time() - sent_at)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


async def flood_phase(
    run: Run, watched: Watched, path: str, rate: float, *, reads: bool
) -> dict[str, Any]:
    """The push load of ``push_phase`` plus a flood to a user of its own with one socket
    that never reads (``reads``: one that does, the control)."""
    slow = run.slow_users[path]
    url = path_url(run, path)
    reader = ReadingSocket(url, slow.token) if reads else SlowReader(url, slow.token)
    await reader.open()
    ws_log = run.stack.components[WS].log_path
    log_from = ws_log.stat().st_size
    registered_key = keys.ws_user(slow.user_id)
    cut_after: float | None = None
    t0 = time.monotonic()

    async def watch_registration() -> None:
        nonlocal cut_after
        while cut_after is None:
            if not await run.redis.hlen(registered_key):
                cut_after = time.monotonic() - t0
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_registration())
    flood = asyncio.create_task(
        publish_at_rate(
            run.notifier,
            [(slow.user_id, 1)],
            run.args.flood_rate,
            run.args.duration,
            tag=f"{path}-flood-{'reads' if reads else 'never'}",
            pad=run.args.flood_bytes,
        )
    )
    others = await push_phase(run, watched, path, f"{path}-{'control' if reads else 'slow'}", rate)
    flooded = await flood
    await asyncio.sleep(0.5)
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    out: dict[str, Any] = {
        "others": others,
        "flood_publishes": flooded.count,
        "flood_event_bytes": run.args.flood_bytes,
        "unregistered_after_s": None if cut_after is None else round(cut_after, 2),
    }
    if isinstance(reader, ReadingSocket):
        out |= {
            "flooded_received": len(reader.latencies),
            "flooded_p99_ms": ms(pct(reader.latencies, 99)),
        }
        await reader.close()
        return out
    frames = await reader.drain(10.0)
    reader.close()
    return out | {
        "frames_read_after": frames.texts,
        "bytes_read_after": frames.text_bytes,
        "close_code": frames.close_code,
        "close_reason": frames.close_reason,
        "stream_ended": frames.eof,
        "ws_service_log": log_lines(ws_log, log_from, slow.user_id)[:5],
    }


async def measure_path(run: Run, path: str) -> dict[str, Any]:
    args, stack, pool = run.args, run.stack, run.pool
    url = path_url(run, path)
    pids = {"ws_service": [stack.components[WS].proc.pid]}  # type: ignore[union-attr]
    if path == "dev":
        pids["gateway"] = [stack.components["gateway"].proc.pid]  # type: ignore[union-attr]
    if path == "edge":
        assert run.edge is not None
        pids["nginx"] = run.edge.pids
    watched = Watched(pids)
    specs = run_specs(run, path)
    out: dict[str, Any] = {"url": url, "sockets_wanted": len(specs)}

    # warm-up: lazily made objects (pools, caches, first-time imports) not counted
    warm = await pool.open(url, specs[: min(len(specs), 64)])
    await pool.close_sockets()
    if warm["failed"]:
        log(f"{path}: warm-up failures {warm['failed']}")
    await asyncio.sleep(2)

    before, kernel_before = watched.rss(), kernel_kib()
    half = len(specs) // 2
    first = await pool.open(url, specs[:half])
    await asyncio.sleep(1)
    mid = watched.rss()
    second = await pool.open(url, specs[half:])
    await asyncio.sleep(2)
    after, kernel_after = watched.rss(), kernel_kib()
    opened = first["opened"] + second["opened"]
    failed = Counter(first["failed"]) + Counter(second["failed"])
    out |= {
        "sockets": opened,
        "open_failed": dict(failed),
        "open_s": round(first["seconds"] + second["seconds"], 1),
        "rss_kib_before": before,
        "rss_kib_after": after,
        "rss_kib_per_socket": {
            n: round((after[n] - before[n]) / opened, 1) if opened else None for n in pids
        },
        "rss_kib_per_socket_marginal": {
            n: round((after[n] - mid[n]) / second["opened"], 1) if second["opened"] else None
            for n in pids
        },
        "kernel_kib_per_socket_machine": {
            k: round((kernel_after[k] - kernel_before[k]) / opened, 2) if opened else None
            for k in kernel_after
        },
    }
    log(
        f"{path}: {opened} sockets up in {out['open_s']}s (failed {dict(failed)}); RSS KiB/socket "
        f"{out['rss_kib_per_socket']} (marginal {out['rss_kib_per_socket_marginal']})"
    )

    out["push"] = await push_phase(run, watched, path, f"{path}-push", args.rate)
    p = out["push"]
    log(
        f"{path}: push {p['deliveries_per_s']}/s (target {args.rate:g}), p50 {p['p50_ms']} ms, "
        f"p99 {p['p99_ms']} ms, lost {p['lost']}, cpu {p['cpu_pct']}"
    )
    if not args.no_slow:
        out["control"] = c = await flood_phase(run, watched, path, args.rate, reads=True)
        log(
            f"{path}: flood to a reading socket: others p99 {c['others']['p99_ms']} ms, "
            f"flooded socket p99 {c['flooded_p99_ms']} ms"
        )
        out["slow"] = s = await flood_phase(run, watched, path, args.rate, reads=False)
        log(
            f"{path}: slow reader: others p99 {s['others']['p99_ms']} ms; unregistered after "
            f"{s['unregistered_after_s']}s; close {s['close_code']} {s['close_reason']!r}; "
            f"stream ended {s['stream_ended']}"
        )
    out["rss_kib_after_pushes"] = watched.rss()
    out["close_s"] = round(await pool.close_sockets(), 1)
    await asyncio.sleep(2)
    out["rss_kib_after_close"] = watched.rss()
    return out


# -- the run ---------------------------------------------------------------------------------


async def run_bench(infra: Infra, args: argparse.Namespace) -> dict[str, Any]:
    stack = infra.stack
    assert stack is not None and infra.redis_server is not None
    assert infra.redis_server.proc is not None
    figures: dict[str, Any] = {"paths": {}}
    async with Client(stack.gateway_url, ULID().hex[:8].lower()) as client:
        t0 = time.monotonic()
        await asyncio.wait_for(client.register(args.users + len(args.paths), 8), 900)
        log(f"registered {len(client.users)} users in {time.monotonic() - t0:.1f}s")
        users = list(client.users)
    slow_users = {path: users.pop() for path in args.paths}
    redis = create_redis(stack.redis_url, "bench-ws", max_connections=PUBLISHERS * 2 + 4)
    pool = ClientPool(args.clients, deflate=args.deflate)
    redis_pid = infra.redis_server.proc.pid
    run = Run(args, stack, pool, redis, UserNotifier(redis), redis_pid, users, slow_users)
    try:
        for i, path in enumerate(args.paths):
            if i:  # a fresh ws_service: memory freed by closed sockets is not returned
                stack.restart(WS, signal.SIGTERM)
            if path == "edge":
                run.edge = Edge(stack, infra.tmp / "edge")
            try:
                figures["paths"][path] = await measure_path(run, path)
            finally:
                if run.edge is not None:
                    run.edge.stop()
                    run.edge = None
    finally:
        pool.stop()
        await redis.aclose()
    return figures


def summary(figures: dict[str, Any]) -> dict[str, Any]:
    """The contract's figures (the production path's; the dev path's when only it ran)."""
    paths = figures["paths"]
    name = next(p for p in ("prod", "edge", "dev") if p in paths)
    main = paths[name]
    return {
        "sockets_per_process": main["sockets"],
        "rss_kib_per_socket": main["rss_kib_per_socket"]["ws_service"],
        "push_p99_ms": main["push"]["p99_ms"],
        "deliveries_per_s": main["push"]["deliveries_per_s"],
        "path": name,
    }


def _verdict(value: float | None, op: str, goal: float) -> str:
    if value is None:
        return "n/a"
    return "PASS" if (value >= goal if op == ">=" else value <= goal) else "MISS"


def print_report(figures: dict[str, Any]) -> None:
    ws = figures["ws"]
    print()
    print(
        f"SatyaMark WebSocket benchmark — {figures['cpus']} CPU(s), {figures['sockets']} "
        f"sockets per path over {figures['users']} users, push target "
        f"{figures['rate']:g} deliveries/s for {figures['duration_s']:g}s, client deflate "
        f"{figures['deflate']}; everything shares this machine"
    )
    print(
        f"(machine busy before start: {figures['background_busy_pct_before_start']}% of one core)"
    )
    print()
    print(f"{'contract (' + ws['path'] + ' path)':<36}{'measured':>12}  target")
    for key, (op, goal, what) in TARGETS.items():
        value = ws[key]
        print(f"  {what:<34}{value!s:>12}  {op} {goal:g}  {_verdict(value, op, goal)}")
    for path, p in figures["paths"].items():
        print()
        print(f"{path} path ({p['url']}): {p['sockets']} sockets up in {p['open_s']}s")
        for name, before in p["rss_kib_before"].items():
            print(
                f"  {name:<12} RSS {before / 1024:7.1f} -> {p['rss_kib_after'][name] / 1024:7.1f}"
                f" MiB: {p['rss_kib_per_socket'][name]} KiB/socket (second half "
                f"{p['rss_kib_per_socket_marginal'][name]}); after pushes "
                f"{p['rss_kib_after_pushes'][name] / 1024:.1f} MiB, after close "
                f"{p['rss_kib_after_close'][name] / 1024:.1f} MiB"
            )
        kernel = p["kernel_kib_per_socket_machine"]
        print(f"  kernel, whole machine (both ends of each connection): {kernel} KiB/socket")
        rows = [("pushes", p["push"])]
        if "slow" in p:
            rows.append(("+ flood, reading", p["control"]["others"]))
            rows.append(("+ flood, never reads", p["slow"]["others"]))
        print(
            f"  {'phase':<22}{'deliv/s':>9}{'target':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"{'lost':>7}{'pub p99':>9}  cpu % of one core"
        )
        for label, s in rows:
            cpu = ", ".join(f"{k} {v}" for k, v in s["cpu_pct"].items())
            print(
                f"  {label:<22}{s['deliveries_per_s']:>9g}{s['target_deliveries_per_s']:>8g}"
                f"{s['p50_ms']!s:>9}{s['p99_ms']!s:>9}{s['max_ms']!s:>9}{s['lost']:>7}"
                f"{s['publish_call_p99_ms']!s:>9}  {cpu}"
            )
        for label, s in rows:
            peak = ", ".join(f"{k} {v / 1024:.1f}" for k, v in s["peak_kib"].items())
            print(f"  {label:<22}peak MiB: {peak}")
        if "slow" in p:
            c = p["control"]
            print(
                f"  flooded socket that reads: {c['flooded_received']} of "
                f"{c['flood_publishes']} events, p99 {c['flooded_p99_ms']} ms"
            )
            s = p["slow"]
            print(
                f"  slow reader: {s['flood_publishes']} events of ~{s['flood_event_bytes']} B "
                f"flooded; unregistered after {s['unregistered_after_s']}s; afterwards it "
                f"read {s['frames_read_after']} frames, close frame {s['close_code']} "
                f"{s['close_reason']!r}, stream ended: {s['stream_ended']}"
            )
    print(f"\nedge (nginx): {figures['edge']}")
    print()


def edge_missing() -> str | None:
    """Why the edge path cannot run here (None: it can)."""
    if not EDGE_CONF.exists():
        return f"{EDGE_CONF.relative_to(ROOT)} does not exist"
    if not Path(NGINX).exists():
        return f"{NGINX} is not installed"
    return None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=10_000, help="sockets per path")
    parser.add_argument("--users", type=int, default=0, help="default: sockets / 10")
    parser.add_argument(
        "--paths",
        default="prod,edge,dev",
        help="any of prod, edge, dev (default: all; edge only where nginx and its config are)",
    )
    parser.add_argument(
        "--rate", type=float, default=20_000, help="target deliveries/s in the push phases"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per push phase")
    parser.add_argument(
        "--flood-rate", type=float, default=500, help="events/s to the slow reader's user"
    )
    parser.add_argument("--flood-bytes", type=int, default=2000, help="padding per flood event")
    parser.add_argument("--no-slow", action="store_true", help="skip the slow-reader phase")
    parser.add_argument(
        "--clients", type=int, default=os.cpu_count() or 1, help="load-client processes"
    )
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="clients do not offer permessage-deflate (browsers do)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args()
    args.paths = [p.strip() for p in args.paths.split(",") if p.strip()]
    if not args.paths or set(args.paths) - {"prod", "edge", "dev"}:
        parser.error("--paths takes prod, edge and dev, comma-separated")
    args.edge_missing = edge_missing()
    if "edge" in args.paths and args.edge_missing:
        log(f"edge path not measured: {args.edge_missing}")
        args.paths.remove("edge")
    args.users = args.users or max(1, args.sockets // 10)
    return args


def main() -> int:
    args = parse_args()
    args.nofile = nofile = raise_nofile()
    if "dev" in args.paths and nofile < 2 * args.sockets + 1500:
        log(
            f"open-file limit {nofile} (not raisable here): the gateway needs two per socket, "
            f"so the dev path gets {(nofile - 1500) // 2}"
        )
    background = machine_busy_pct()
    if background > 20:
        log(f"WARNING: the machine is already {background}% busy (100% = one core)")
    with bench_infra("satyamark-bench-ws-", keep=args.keep) as infra:
        t0 = time.monotonic()
        stack = infra.start(workers=0, ws_instances=1)
        log(f"stack up in {time.monotonic() - t0:.1f}s; logs in {stack.logs}")
        budget = 900 + len(args.paths) * (args.sockets / 20 + 6 * args.duration + 120)
        try:
            figures = asyncio.run(asyncio.wait_for(run_bench(infra, args), budget))
        except TimeoutError:
            log(f"benchmark did not finish within {budget:.0f}s; see {stack.logs}")
            return 2
        figures |= {
            "ws": summary(figures),
            "sockets": args.sockets,
            "users": args.users,
            "rate": args.rate,
            "duration_s": args.duration,
            "deflate": args.deflate,
            "load_client_processes": args.clients,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "background_busy_pct_before_start": background,
            "nofile": nofile,
            "edge": "measured"
            if "edge" in args.paths
            else f"not measured: {args.edge_missing or 'not asked for'}",
        }
        try:
            print_report(figures)
        finally:
            print("JSON " + json.dumps(figures, sort_keys=True), flush=True)
        return 0


if __name__ == "__main__":
    run_main(main)
