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
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __name__ == "__mp_main__":  # a load client: the parent's sys.path holds the root
    import bench._root  # noqa: F401
elif not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401

import orjson
from ulid import ULID
from websockets.asyncio.client import ClientConnection, connect

from bench.pipeline_client import Client, User
from bench.pipeline_common import log, ms, pct, run_main
from bench.pipeline_infra import Infra, bench_infra
from bench.procstat import (
    machine_busy_pct,
)
from bench.ws_client import ClientPool, SlowReader, Spec
from bench.ws_edge import Edge, edge_missing
from bench.ws_measure import (
    PUBLISHERS,
    Sampler,
    Watched,
    delivery_figures,
    kernel_kib,
    publish_at_rate,
    raise_nofile,
)
from bench.ws_report import print_report, summary
from satyamark.devstack import Stack
from shared import keys
from shared.notify import UserNotifier
from shared.redis_client import create_redis

WS = "ws_service-1"
DRAIN_S = 2.0  # wait for late deliveries after the last publish


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
                run.edge = Edge(stack, infra.tmp / "edge", WS)
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
