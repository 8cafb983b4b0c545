"""What seeing inside costs: the pipeline's accepted submits/s with metrics and tracing
off, then on, on the same machine, and the ratio (target: on costs at most 5%).

    .venv/bin/python bench/observability.py           # 10 s phases, 3 rounds each
    .venv/bin/python bench/observability.py --quick   # 3 s phases, 2 rounds

"off": no metrics port in any process (no request metrics either) and no tracer.
"metrics": every process serves /metrics; no tracer.
"on": metrics, and every span of every request exported (no sampling) as JSON lines to
a file by the SDK's batch processor, as OTLP export would be batched.
"sampled": the same with one trace in ten kept (OTEL_TRACES_SAMPLER=
parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1), the production setting.
Each mode reports accepted submits/s and the stack's CPU milliseconds per task (every
process, Redis and PostgreSQL, from the round's start until its tasks are drained): on a
shared 2-core machine throughput swings by a quarter between rounds, CPU per task does
not, so the target (at most 5% more) is judged on it.
The same stack as bench/pipeline.py: every process, Redis, PostgreSQL and this client
share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

# Run as a script, this file's folder would come first on sys.path (see pipeline.py).
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _HERE]
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ulid import ULID  # noqa: E402

from bench.pipeline_client import Client  # noqa: E402
from bench.pipeline_common import log  # noqa: E402
from bench.pipeline_infra import CpuSampler, Infra, wait_drained  # noqa: E402

CONCURRENCY = 64
TARGET_RATIO = 0.95
# The production setting the README recommends: one trace in ten, whole (parent-based).
SAMPLED_RATIO = 0.1
MODES = ("off", "metrics", "on", "sampled")


async def _throughput(
    infra: Infra, duration: float, rounds: int, users: int
) -> tuple[list[float], list[float]]:
    """Accepted submits/s of each round, and the stack's CPU milliseconds per task (from
    the round's start until its tasks are drained: every hop, the worker included)."""
    stack = infra.stack
    assert stack is not None
    cpu = CpuSampler(infra)
    rates, cpu_ms = [], []
    async with Client(stack.gateway_url, ULID().hex[:8].lower()) as client:
        await asyncio.wait_for(client.register(users), 120)
        await client.submit_phase(4, 2.0)  # warm-up: pools, caches
        await wait_drained(stack.redis_url, 120)
        for _ in range(rounds):
            before = cpu.stack_cpu_seconds()
            result = await client.submit_phase(CONCURRENCY, duration)
            rates.append(result.ok / result.duration_s)
            await wait_drained(stack.redis_url, 180)
            await asyncio.sleep(1.0)  # the last pushes and webhooks after the ack
            cpu_ms.append(1000 * (cpu.stack_cpu_seconds() - before) / max(1, result.ok))
    return rates, cpu_ms


def _tracing_env(mode: str, tmp: Path) -> dict[str, str]:
    if mode == "on":
        return {"SATYAMARK_TRACES_DIR": str(tmp / "traces")}
    if mode == "sampled":  # the SDK reads the standard sampler variables
        return {
            "SATYAMARK_TRACES_DIR": str(tmp / "traces"),
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": str(SAMPLED_RATIO),
        }
    return {}


def _measure(mode: str, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    tmp = Path(tempfile.mkdtemp(prefix=f"satyamark-obs-{mode}-"))
    infra = Infra(tmp)
    try:
        infra.start(
            workers=2,
            ws_instances=2,
            metrics=mode != "off",
            extra_env=_tracing_env(mode, tmp),
        )
        duration = 3.0 if args.quick else args.duration
        rounds = 2 if args.quick else args.rounds
        rates, cpu_ms = asyncio.run(_throughput(infra, duration, rounds, args.users))
        log(f"observability {mode}: {[round(r, 1) for r in rates]} accepted submits/s")
        log(f"observability {mode}: {[round(c, 1) for c in cpu_ms]} stack CPU ms per task")
        return rates, cpu_ms
    finally:
        infra.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 s phases, 2 rounds")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=64)
    args = parser.parse_args()

    figures: dict[str, Any] = {}
    for mode in MODES:
        rates, cpu_ms = _measure(mode, args)
        figures[f"submit_rps_c{CONCURRENCY}_{mode}"] = round(statistics.median(rates), 1)
        figures[f"cpu_ms_per_task_{mode}"] = round(statistics.median(cpu_ms), 2)
    off = figures[f"submit_rps_c{CONCURRENCY}_off"]
    cpu_off = figures["cpu_ms_per_task_off"]
    for mode in MODES[1:]:
        rate = figures[f"submit_rps_c{CONCURRENCY}_{mode}"]
        figures[f"ratio_{mode}_to_off"] = round(rate / off, 3) if off else None
        cpu = figures[f"cpu_ms_per_task_{mode}"]
        figures[f"cpu_ratio_{mode}_to_off"] = round(cpu / cpu_off, 3) if cpu_off else None
    # Throughput on a shared 2-core box swings 25% round to round; CPU per task does not
    # depend on what else ran meanwhile, so it is the figure the target is judged by.
    for mode in ("on", "sampled"):
        ok = (figures[f"cpu_ratio_{mode}_to_off"] or 99) <= 2 - TARGET_RATIO
        figures[f"meets_target_{mode}"] = (
            f"{'yes' if ok else 'NO'} ({mode} costs at most {1 - TARGET_RATIO:.0%} more CPU "
            "per task)"
        )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(main())
