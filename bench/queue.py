"""Queue-core benchmark: our worker vs dramatiq and saq on one private Redis.

    .venv/bin/python bench/queue.py            # N=10,000 no-op + N=2,000 x 50 ms, median of 3
    .venv/bin/python bench/queue.py --quick    # N=2,000 / 500, one run
    .venv/bin/python bench/queue.py --profile  # also py-spy one of our workers (no-op axis)

What is measured (see bench/README.md, "Queue benchmark"):
- every system gets 2 worker processes on the same private redis-server (appendonly off);
- completion is counted the same way for all three: one INCR of ``bench:done`` per job,
  done by the job's last step (the peers' task function; for us the callback receiver,
  after the signature check, before it answers 200). Time = first enqueue (taken by the
  producer process) -> counter == N; for us also -> stream empty (acked + XDEL'd);
- ours: bench/peers/ours_worker.py = ``python -m worker`` with a stub judge; every
  result is POSTed, signed, to bench/peers/receiver.py (aiohttp) and acked after its 200;
- dramatiq: 2 processes x 8 threads; saq: 2 workers x concurrency 32.
Everything has a timeout; every process is started in its own session and killed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401
import redis

from bench.procstat import cpu_seconds
from bench.queue_profile import summarize_profile
from bench.queue_systems import (
    COUNTER,
    MAIN_PY,
    PEERS,
    Dramatiq,
    Harness,
    Ours,
    Saq,
    System,
    log,
    stop,
    stop_all,
    track,
    wait_for,
)
from satyamark.infra import RedisServer
from shared import keys

ROOT = Path(__file__).resolve().parents[1]
PY_SPY = ROOT / ".venv" / "bin" / "py-spy"
TOTAL_LIMIT_S = 1500


# -- one run -----------------------------------------------------------------------------


@dataclass
class RunResult:
    n: int
    seconds: float
    jobs_s: float
    cmds_per_job: float
    top_cmds: list[tuple[str, float]]
    cpu_ms_per_job: dict[str, float]
    ack_lag_ms: float = 0.0
    enqueue_s: float = 0.0


def produce(sys_: System, n: int, timeout_s: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        sys_.producer(n), cwd=PEERS if sys_.name != "satyamark" else ROOT,
        env=sys_.env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def one_run(
    sys_: System, h: Harness, n: int, redis_pid: int, receiver_pid: int | None
) -> RunResult:
    h.do("SET", COUNTER, 0)
    before_cmds = h.commandstats()
    h.calls.clear()
    pids = sys_.worker_pids()
    cpu0 = {"workers": cpu_seconds(pids), "redis": cpu_seconds([redis_pid])}
    if receiver_pid:
        cpu0["receiver"] = cpu_seconds([receiver_pid])
    timeout_s = 60 + n / 20
    prod = produce(sys_, n, timeout_s)
    track(prod)
    try:
        wait_for(lambda: h.counter() >= n, timeout_s, f"{sys_.name}: {n} completions")
        t_count = time.time()
        t_end = wait_for(lambda: sys_.drained(h), 30, f"{sys_.name}: stream drained")
        out, err = prod.communicate(timeout=60)
    finally:
        stop(prod, 5)
    if prod.returncode != 0:
        raise RuntimeError(f"{sys_.name} producer failed: {err.decode()[-2000:]}")
    stamps = json.loads(out.decode().strip().splitlines()[-1])
    cpu1 = {"workers": cpu_seconds(pids), "redis": cpu_seconds([redis_pid])}
    if receiver_pid:
        cpu1["receiver"] = cpu_seconds([receiver_pid])
    own = dict(h.calls)
    after_cmds = h.commandstats()
    delta = {k: after_cmds.get(k, 0) - before_cmds.get(k, 0) - own.get(k, 0) for k in after_cmds}
    delta["info"] = delta.get("info", 0) - 1  # the INFO that read ``after_cmds``
    delta = {k: v for k, v in delta.items() if v > 0}
    elapsed = max(t_count, t_end) - stamps["t0"]
    top = sorted(((k, v / n) for k, v in delta.items()), key=lambda kv: -kv[1])[:8]
    got = h.counter()
    if got != n:
        log(f"  {sys_.name}: counter is {got} for {n} jobs (duplicates)")
    return RunResult(
        n=n,
        seconds=elapsed,
        jobs_s=n / elapsed,
        cmds_per_job=sum(delta.values()) / n,
        top_cmds=[(k, round(v, 2)) for k, v in top],
        cpu_ms_per_job={k: round((cpu1[k] - cpu0[k]) * 1000 / n, 3) for k in cpu1},
        ack_lag_ms=max(0.0, t_end - t_count) * 1000,
        enqueue_s=stamps["t1"] - stamps["t0"],
    )


def axis(sys_: System, h: Harness, sleep_ms: int, n: int, runs: int, redis_pid: int,
         profile_s: float = 0) -> tuple[list[RunResult], str | None]:  # fmt: skip
    log(f"{sys_.name}: starting workers (sleep {sleep_ms} ms)")
    sys_.start(sleep_ms)
    receiver_pid = getattr(sys_, "receiver", None)
    receiver_pid = receiver_pid.pid if receiver_pid is not None else None
    profile_out = None
    try:
        wait_for(lambda: sys_.ready(h), 120, f"{sys_.name} workers ready", 0.1)
        # Warm-up: every process has imported everything and served jobs.
        h.do("SET", COUNTER, 0)
        warm = produce(sys_, 200, 60)
        track(warm)
        wait_for(lambda: h.counter() >= 200, 90, f"{sys_.name} warm-up", 0.02)
        wait_for(lambda: sys_.drained(h), 30, f"{sys_.name} warm-up drained", 0.02)
        stop(warm, 10)
        time.sleep(0.5)
        results = []
        for i in range(runs):
            r = one_run(sys_, h, n, redis_pid, receiver_pid)
            log(f"  {sys_.name} run {i + 1}/{runs}: {r.n} jobs in {r.seconds:.2f}s = "
                f"{r.jobs_s:.0f} jobs/s; {r.cmds_per_job:.1f} redis cmds/job; "
                f"cpu ms/job {r.cpu_ms_per_job}; enqueue {r.enqueue_s:.2f}s")  # fmt: skip
            results.append(r)
            time.sleep(0.5)
        if profile_s and sys_.name == "satyamark":
            profile_out = profile_worker(sys_, h, n, redis_pid, receiver_pid)
        return results, profile_out
    finally:
        sys_.stop()


# -- reclaim after kill -9 ---------------------------------------------------------------


def reclaim(ours: Ours, h: Harness, lease_ms: int, n: int) -> dict[str, float]:
    """Kill -9 one of two workers while it holds entries; time until the other acks them."""
    log(f"reclaim: 2 workers, WORKER_LEASE_MS={lease_ms}, 50 ms judge, {n} jobs")
    ours.start(50, {"WORKER_LEASE_MS": str(lease_ms)})
    try:
        wait_for(lambda: ours.ready(h), 120, "workers ready", 0.1)
        h.do("SET", COUNTER, 0)
        prod = produce(ours, n, 60)
        track(prod)
        consumers = ours.consumer_pids(h)
        victim_name, victim_pid = sorted(consumers.items())[0]

        def victim_ids() -> list[str]:
            rows = h.client.xpending_range(
                keys.JOB_STREAM, keys.WORKER_GROUP, min="-", max="+", count=10_000,
                consumername=victim_name,
            )  # fmt: skip
            return [r["message_id"].decode() for r in rows]  # type: ignore[union-attr]

        wait_for(lambda: len(victim_ids()) >= 16, 30, "victim holds entries", 0.01)
        time.sleep(0.2)
        os.kill(victim_pid, signal.SIGKILL)
        t_kill = time.time()
        held = victim_ids()
        log(f"  killed {victim_name} holding {len(held)} entries")

        def gone() -> int:
            pipe = h.client.pipeline(transaction=False)
            for i in held:
                pipe.xrange(keys.JOB_STREAM, i, i, count=1)
            return sum(1 for rows in pipe.execute() if not rows)

        t_first = wait_for(lambda: gone() > 0 or not victim_ids(), 60, "first reclaim", 0.01)
        t_claimed = wait_for(lambda: not victim_ids(), 60, "all claimed", 0.01)
        t_acked = wait_for(lambda: gone() == len(held), 60, "all reclaimed acked", 0.01)
        wait_for(lambda: h.counter() >= n, 120, "all jobs done", 0.02)
        stop(prod, 10)
        return {
            "held": len(held),
            "first_s": t_first - t_kill,
            "claimed_s": t_claimed - t_kill,
            "acked_s": t_acked - t_kill,
            "completions": h.counter(),
            "n": n,
        }
    finally:
        ours.stop()


# -- py-spy ------------------------------------------------------------------------------


def profile_worker(
    ours: System, h: Harness, n: int, redis_pid: int, receiver_pid: int | None
) -> str:
    """py-spy record one worker (raw collapsed stacks) during an extra no-op run."""
    pid = ours.procs[0].pid
    out = ours.tmp / "worker.pyspy.txt"
    spy = subprocess.Popen(
        [str(PY_SPY), "record", "-p", str(pid), "-r", "250", "-f", "raw", "-o", str(out),
         "-d", "60", "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    track(spy)
    time.sleep(1.0)
    runs = [one_run(ours, h, n, redis_pid, receiver_pid) for _ in range(2)]
    log(f"  profiled runs: {[round(r.jobs_s) for r in runs]} jobs/s (py-spy attached)")
    os.killpg(spy.pid, signal.SIGINT)  # py-spy writes its output on SIGINT
    try:
        spy.wait(30)
    finally:
        stop(spy, 5)
    return str(out)


# -- main --------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="N=2,000 / 500, one run")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--systems", default="satyamark,dramatiq,saq")
    ap.add_argument("--axes", default="noop,sleep")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-in-flight", type=int, default=64)
    ap.add_argument("--batch-wait-ms", type=int, default=2)
    ap.add_argument("--lease-ms", type=int, default=3000, help="throughput runs")
    ap.add_argument("--reclaim-lease-ms", type=int, default=2000)
    ap.add_argument("--no-reclaim", action="store_true")
    ap.add_argument("--profile", action="store_true", help="py-spy a worker (no-op axis)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = ap.parse_args()
    if args.profile and not PY_SPY.exists():
        raise SystemExit(f"--profile needs py-spy: {MAIN_PY} -m pip install py-spy")
    n_noop, n_sleep, runs = (2000, 500, 1) if args.quick else (10_000, 2000, 3)
    runs = args.runs or runs
    systems = args.systems.split(",")

    def on_alarm(*_: object) -> None:
        raise TimeoutError(f"benchmark exceeded {TOTAL_LIMIT_S}s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.alarm(TOTAL_LIMIT_S)
    tmp = Path(tempfile.mkdtemp(prefix="satyamark-queue-bench-"))
    server = RedisServer(tmp / "redis", appendonly=False).start()
    assert server.proc is not None
    h = Harness(redis.Redis.from_url(server.url))
    settings = {
        "WORKER_BATCH_SIZE": str(args.batch_size),
        "WORKER_MAX_IN_FLIGHT": str(args.max_in_flight),
        "WORKER_BATCH_WAIT_MS": str(args.batch_wait_ms),
        "WORKER_LEASE_MS": str(args.lease_ms),
        "LOG_LEVEL": "INFO",
    }
    log(f"redis {server.url} (appendonly off), temp dir {tmp}; ours: {settings}")
    busy = os.getloadavg()[0]
    if busy > 0.5:
        log(f"WARNING: load average {busy:.2f} before the start; figures will be lower")
    ours = Ours(server.url, tmp, settings)
    results: dict[tuple[str, str], list[RunResult]] = {}
    report: dict[str, Any] = {
        "settings": settings,
        "n_noop": n_noop,
        "n_sleep": n_sleep,
        "runs": runs,
    }
    profile_path = None
    try:
        for ax in args.axes.split(","):
            sleep_ms, n = (0, n_noop) if ax == "noop" else (50, n_sleep)
            for name in systems:
                makers: dict[str, Callable[[], System]] = {
                    "satyamark": lambda: ours,
                    "dramatiq": lambda: Dramatiq(server.url, tmp),
                    "saq": lambda: Saq(server.url, tmp),
                }
                sys_ = makers[name]()
                res, prof = axis(sys_, h, sleep_ms, n, runs, server.proc.pid,
                                 profile_s=1 if (args.profile and ax == "noop") else 0)  # fmt: skip
                results[(ax, name)] = res
                if prof and Path(prof).exists():
                    profile_path = summarize_profile(prof)
        if not args.no_reclaim and "satyamark" in systems:
            report["reclaim"] = reclaim(ours, h, args.reclaim_lease_ms, n_sleep)
    finally:
        ours.stop_receiver()
        stop_all()
        server.stop()
        signal.alarm(0)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"logs kept in {tmp}")

    # -- report
    print()
    print(f"Queue benchmark ({os.cpu_count()} CPUs), median of {runs} run(s); jobs/s = N / "
          "(first enqueue -> N completions counted by INCR; ours: and stream empty)")  # fmt: skip
    print(f"{'axis':<14}{'system':<11}{'jobs/s':>9}{'runs':>22}{'cmds/job':>10}"
          f"{'cpu ms/job (workers/recv/redis)':>34}")  # fmt: skip
    med: dict[tuple[str, str], float] = {}
    for (ax, name), res in results.items():
        m = statistics.median(r.jobs_s for r in res)
        med[(ax, name)] = m
        mid = sorted(res, key=lambda r: r.jobs_s)[len(res) // 2]
        cpu = mid.cpu_ms_per_job
        cpu_s_ = f"{cpu['workers']:.3f}/{cpu.get('receiver', 0):.3f}/{cpu['redis']:.3f}"
        label = f"{'no-op' if ax == 'noop' else '50 ms'} N={res[0].n}"
        print(f"{label:<14}{name:<11}{m:>9.0f}{[round(r.jobs_s) for r in res]!s:>22}"
              f"{mid.cmds_per_job:>10.1f}{cpu_s_:>34}")  # fmt: skip
        report[f"{ax}.{name}"] = {
            "median_jobs_s": round(m, 1),
            "runs_jobs_s": [round(r.jobs_s, 1) for r in res],
            "cmds_per_job": round(mid.cmds_per_job, 2),
            "top_cmds_per_job": mid.top_cmds,
            "cpu_ms_per_job": cpu,
            "ack_lag_ms": round(mid.ack_lag_ms, 1),
            "enqueue_s": round(mid.enqueue_s, 3),
        }
    print()
    for (ax, name), res in results.items():
        mid = sorted(res, key=lambda r: r.jobs_s)[len(res) // 2]
        print(f"  {ax:<6}{name:<10} redis cmds/job: {mid.top_cmds}")
    print()
    for ax in args.axes.split(","):
        if (ax, "satyamark") not in med:
            continue
        peers = {n: v for (a, n), v in med.items() if a == ax and n != "satyamark"}
        ratios = {n: med[(ax, "satyamark")] / v for n, v in peers.items()}
        if ratios:
            best = max(peers, key=lambda n: peers[n])
            verdict = "PASS" if ratios[best] >= 1.0 else "MISS"
            print(f"{ax:<6} ours/peer: " + ", ".join(f"{n} {r:.2f}" for n, r in ratios.items())
                  + f"   target >= 1.0 vs best peer ({best}): {verdict}")  # fmt: skip
            report[f"ratio.{ax}"] = {k: round(v, 3) for k, v in ratios.items()}
    rc = report.get("reclaim")
    if rc:
        print(
            f"reclaim after kill -9 (WORKER_LEASE_MS={args.reclaim_lease_ms}): "
            f"{rc['held']} entries held; first acked/claimed after {rc['first_s']:.2f}s, "
            f"all claimed {rc['claimed_s']:.2f}s, all acked {rc['acked_s']:.2f}s; "
            f"completions {rc['completions']} for {rc['n']} jobs"
        )
    if profile_path:
        print()
        print(profile_path)
    print()
    print("JSON " + json.dumps(report, default=str))


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
