"""End-to-end pipeline benchmark: the whole stack as real processes, driven through the
public API only (gateway ``/v1`` + WebSocket ``/v1/ws``).

    .venv/bin/python bench/pipeline.py            # full run (~2 min incl. start-up)
    .venv/bin/python bench/pipeline.py --quick    # short phases (~1 min)
    .venv/bin/python bench/pipeline.py --keep     # keep the temp dir (logs) afterwards

Measures
  a. accepted submits/s (202 only) and latency p50/p99 at concurrency 1, 16, 64,
     unique texts (cache misses); non-202 answers are counted by status;
  b. submit -> WebSocket push latency (cache misses, concurrency 4, closed loop);
  c. cache-hit latency (200 cached) at concurrency 1 and 16;
and per-process CPU use during the concurrency-64 phase.

Everything (gateway, auth, ratelimit, backend, ai_service, result_receiver, 2 ws_service,
2 workers, Redis, PostgreSQL and this client) shares one machine, so the figures are
what that machine gives, not what each service could do on its own cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401
from ulid import ULID

from bench.pipeline_client import Client
from bench.pipeline_common import load_parser, log, run_main
from bench.pipeline_floor import measure as measure_floor
from bench.pipeline_hops import hop_breakdown
from bench.pipeline_infra import CpuSampler, Infra, bench_infra, queue_backlog, wait_drained
from bench.procstat import machine_busy_pct

TARGETS = {
    "submit_rps_c64": (">=", 450.0, "accepted submits/s @ c=64"),
    "submit_p99_ms_c16": ("<=", 60.0, "submit p99 ms @ c=16"),
    "push_p50_ms": ("<=", 30.0, "submit->push p50 ms"),
    "cache_hit_p50_ms_c1": ("<=", 3.0, "cache hit p50 ms @ c=1"),
    "cpu_ms_per_task_c64": ("<=", 4.0, "machine CPU ms/accepted @ c=64"),
}
MACHINE = "MACHINE busy (all cores)"


# -- main ----------------------------------------------------------------------------------


async def run_bench(infra: Infra, args: argparse.Namespace) -> dict[str, Any]:
    stack = infra.stack
    assert stack is not None
    dur = 3.0 if args.quick else args.duration
    figures: dict[str, Any] = {"quick": bool(args.quick), "phases": {}}
    async with Client(stack.gateway_url, ULID().hex[:8].lower()) as client:
        t0 = time.monotonic()
        await asyncio.wait_for(client.register(args.users), 120)
        log(f"registered {len(client.users)} users in {time.monotonic() - t0:.1f}s")
        await asyncio.wait_for(client.open_sockets(), 120)
        log(f"opened {len(client.users)} WebSockets (kept open for the whole run)")

        # warm-up: first requests open connection pools, compile regexes, etc.
        await client.submit_phase(4, 1.0 if args.quick else 2.0)
        await wait_drained(stack.redis_url, 60)

        sampler = CpuSampler(infra)
        figures["cpu"] = {}
        for conc in (1, 16, 64):
            sampler.begin()
            res = await client.submit_phase(conc, dur)
            figures["cpu"][f"submit_c{conc}"] = sampler.end()
            figures["phases"][f"submit_c{conc}"] = res.summary()
            backlog = queue_backlog(stack.redis_url)
            left, waited = await wait_drained(stack.redis_url, 120)
            # Per accepted task, until its job is done: the CPU of the phase and of
            # draining what it left queued (a backlog is work the phase did not pay).
            figures["cpu_ms_per_request"] = figures.get("cpu_ms_per_request", {})
            if res.ok:
                figures["cpu_ms_per_request"][f"submit_c{conc}"] = {
                    name: round(seconds / res.ok * 1000, 2)
                    for name, seconds in sampler.seconds().items()
                }
            figures["phases"][f"submit_c{conc}"]["backlog_at_end"] = backlog
            figures["phases"][f"submit_c{conc}"]["drain_s"] = round(waited, 2)
            log(
                f"submit c={conc}: {res.summary()} backlog={backlog} drained in "
                f"{waited:.1f}s (left {left})"
            )

        res, answered = await client.push_phase(4, dur)
        figures["phases"]["push_c4"] = res.summary()
        log(f"push c=4: {res.summary()}")

        # Cache hits need answered texts; with none (no push came back), one unanswered
        # text keeps the phase running, and its figures are then misses.
        pool = answered or [client.unique_text("never")]
        for conc in (1, 16):
            sampler.begin()
            res = await client.cache_phase(conc, dur, pool[:500])
            figures["cpu"][f"cache_c{conc}"] = sampler.end()
            figures["phases"][f"cache_c{conc}"] = res.summary()
            log(f"cache c={conc}: {res.summary()}")
        figures["ws_events_received"] = dict(client.pushes)

        await wait_drained(stack.redis_url, 60)
        figures["hops_c1"] = await asyncio.wait_for(
            hop_breakdown(client, stack, pool, 60 if args.quick else 200), 180
        )
        log(f"hops: {figures['hops_c1']}")

    p = figures["phases"]
    figures["submit_rps_c64"] = p["submit_c64"]["ok_per_s"]
    figures["submit_p99_ms_c16"] = p["submit_c16"]["p99_ms"]
    figures["push_p50_ms"] = p["push_c4"]["p50_ms"]
    figures["cache_hit_p50_ms_c1"] = p["cache_c1"]["p50_ms"]
    per_task = figures["cpu_ms_per_request"].get("submit_c64", {})
    figures["cpu_ms_per_task_c64"] = per_task.get(MACHINE)
    return figures


def _meets(value: float | None, op: str, target: float) -> str:
    if value is None:
        return "n/a"
    ok = value >= target if op == ">=" else value <= target
    return "PASS" if ok else "MISS"


def print_report(figures: dict[str, Any]) -> None:
    p = figures["phases"]
    rows = [
        ("submit (miss) c=1", p["submit_c1"], None),
        ("submit (miss) c=16", p["submit_c16"], "submit_p99_ms_c16"),
        ("submit (miss) c=64", p["submit_c64"], "submit_rps_c64"),
        ("submit->push c=4", p["push_c4"], "push_p50_ms"),
        ("cache hit c=1", p["cache_c1"], "cache_hit_p50_ms_c1"),
        ("cache hit c=16", p["cache_c16"], None),
    ]
    print()
    print(
        f"SatyaMark pipeline benchmark ({'quick' if figures['quick'] else 'full'}) — "
        f"{figures['cpus']} CPU(s); all 10 service processes + Redis + PostgreSQL + this "
        "client share this machine"
    )
    print(
        f"(machine busy before start: {figures['background_busy_pct_before_start']}% of one "
        f"core; worker torch threads: {figures['torch_threads']})"
    )
    head = (
        f"{'phase':<20}{'ok':>7}{'ok/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}  "
        f"{'target':<34}{'':<6}other"
    )
    print(head)
    print("-" * len(head))
    for label, s, key in rows:
        target = ""
        verdict = ""
        if key:
            op, goal, what = TARGETS[key]
            target = f"{what} {op} {goal:g}"
            verdict = _meets(figures[key], op, goal)
        other = ", ".join(f"{k}: {v}" for k, v in s["other"].items()) or "-"

        def f(v: Any) -> str:
            return "-" if v is None else f"{v:g}"

        print(
            f"{label:<20}{s['ok']:>7}{f(s['ok_per_s']):>9}{f(s['p50_ms']):>9}"
            f"{f(s['p99_ms']):>9}{f(s['max_ms']):>9}  {target:<34}{verdict:<6}{other}"
        )
    print()
    print(
        f"CPU by process, % of one core (the machine has {figures['cpus'] * 100}%), and CPU ms"
        " per accepted submit:"
    )
    c64 = figures["cpu"]["submit_c64"]
    per_req = figures.get("cpu_ms_per_request", {})
    print(
        f"  {'process':<26}{'c=1 %':>8}{'c=16 %':>8}{'c=64 %':>8}{'ms/req c=1':>12}"
        f"{'ms/req c=64':>13}{'cache c=16 %':>14}"
    )
    for name in sorted(c64, key=lambda k: (k.startswith("MACHINE"), -c64[k])):

        def g(phase: str, name: str = name) -> str:
            v = figures["cpu"].get(phase, {}).get(name)
            return "-" if v is None else f"{v:g}"

        def r(phase: str, name: str = name) -> str:
            v = per_req.get(phase, {}).get(name)
            return "-" if v is None else f"{v:g}"

        print(
            f"  {name:<26}{g('submit_c1'):>8}{g('submit_c16'):>8}{g('submit_c64'):>8}"
            f"{r('submit_c1'):>12}{r('submit_c64'):>13}{g('cache_c16'):>14}"
        )
    op, goal, what = TARGETS["cpu_ms_per_task_c64"]
    value = figures["cpu_ms_per_task_c64"]
    print(f"  {what}: {value} (target {op} {goal:g}) {_meets(value, op, goal)}")
    print()
    print("Single-hop latency at concurrency 1 (internal services called directly):")
    for name, v in figures["hops_c1"].items():
        print(
            f"  {name:<34} p50 {v['p50_ms']:>7} ms   p99 {v['p99_ms']:>7} ms"
            f"   {v.get('statuses', '')}"
        )
    floor = figures.get("floor")
    if floor:
        ours = figures["cpu_ms_per_task_c64"]
        mine = floor["c64"]["cpu_ms_per_request_machine"]
        print()
        print(
            f"Floor: {floor['hops']} trivial HTTP hops in a chain (bench/pipeline_floor.py), "
            f"c=64: {floor['c64']['ok_per_s']}/s at {mine} ms machine CPU per request "
            f"(c=16 p99 {floor['c16']['p99_ms']} ms); ours {ours} ms per task = "
            f"{figures['floor_ratio']}x the floor"
        )
    ws = figures.get("ws")
    if ws:
        print()
        print(f"WebSockets (bench/ws.py, production path): {ws}")
    print()
    print("JSON " + json.dumps(figures, sort_keys=True))


def main() -> int:
    parser = load_parser(__doc__, "3 s phases instead of 10 s", "seconds per phase")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=0,
        help="set OMP_NUM_THREADS/MKL_NUM_THREADS for the workers (default: unset, as shipped)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument(
        "--no-floor", action="store_true", help="skip the trivial five-hop chain (the floor)"
    )
    parser.add_argument(
        "--ws-sockets",
        type=int,
        default=-1,
        help="sockets for the WebSocket figures (bench/ws.py --paths prod, run after the "
        "stack stops; default 2,000 with --quick, else 10,000; 0: skip)",
    )
    parser.add_argument(
        "--pause",
        action="store_true",
        help="after the stack starts, print pids and wait for Enter (attach py-spy etc.)",
    )
    args = parser.parse_args()

    background = machine_busy_pct()
    if background > 20:
        log(
            f"WARNING: the machine is already {background}% busy (100% = one core) before "
            "the benchmark starts; figures will be lower than on a quiet machine"
        )
    # The floor first, on a machine nothing of ours is using yet.
    floor = None if args.no_floor else measure_floor(3.0 if args.quick else 10.0)
    if floor:
        log(f"floor: {floor}")
    with bench_infra("satyamark-bench-", keep=args.keep) as infra:
        t0 = time.monotonic()
        stack = infra.start(workers=2, ws_instances=2, torch_threads=args.torch_threads)
        log(
            f"stack up in {time.monotonic() - t0:.1f}s at {stack.gateway_url}; logs in {stack.logs}"
        )
        pids = {name: c.proc.pid for name, c in stack.components.items() if c.proc}
        log(f"pids: {json.dumps(pids)}")
        if args.pause:
            input("press Enter to start the benchmark ")
        budget = 60 + (3.0 if args.quick else args.duration) * 8 + 6 * 150
        try:
            figures = asyncio.run(asyncio.wait_for(run_bench(infra, args), budget))
        except TimeoutError:
            log(f"benchmark did not finish within {budget:.0f}s; see {stack.logs}")
            return 2
        figures["cpus"] = os.cpu_count()
        figures["background_busy_pct_before_start"] = background
        figures["torch_threads"] = args.torch_threads or "default"
        figures["machine"] = platform.machine()
    if floor:
        figures["floor"] = floor
        ours = figures["cpu_ms_per_task_c64"]
        mine = floor["c64"]["cpu_ms_per_request_machine"]
        figures["floor_ratio"] = round(ours / mine, 1) if ours and mine else None
    sockets = args.ws_sockets if args.ws_sockets >= 0 else (2000 if args.quick else 10_000)
    if sockets:
        figures["ws"] = ws_figures(sockets, args.quick)
    print_report(figures)
    return 0


def ws_figures(sockets: int, quick: bool) -> dict[str, Any] | None:
    """bench/ws.py's summary for the production path (its own stack, after ours stopped)."""
    command = [sys.executable, str(Path(__file__).with_name("ws.py")), "--paths", "prod"]
    command += ["--sockets", str(sockets), "--duration", "3" if quick else "10"]
    log(f"WebSocket figures: {' '.join(command[1:])}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("JSON "):
            summary: dict[str, Any] = json.loads(line[5:]).get("ws", {})
            return summary
    log(f"bench/ws.py gave no figures (exit {done.returncode}): {done.stderr[-2000:]}")
    return None


if __name__ == "__main__":
    run_main(main)
