"""What seeing inside costs: the pipeline's accepted submits/s with metrics and tracing
off, then on, on the same machine, and the ratio (target: on costs at most 5%).

    .venv/bin/python bench/observability.py           # 10 s phases, 3 rounds each
    .venv/bin/python bench/observability.py --quick   # 3 s phases, 2 rounds

"off": no metrics port in any process (no request metrics either) and no tracer.
"metrics": every process serves /metrics; no tracer.
"on": metrics, and every span of every request exported (no sampling) as JSON lines to
a file by the SDK's batch processor, as OTLP export would be batched.
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
from bench.pipeline_infra import Infra, wait_drained  # noqa: E402

CONCURRENCY = 64
TARGET_RATIO = 0.95


async def _throughput(infra: Infra, duration: float, rounds: int, users: int) -> list[float]:
    stack = infra.stack
    assert stack is not None
    rates = []
    async with Client(stack.gateway_url, ULID().hex[:8].lower()) as client:
        await asyncio.wait_for(client.register(users), 120)
        await client.submit_phase(4, 2.0)  # warm-up: pools, caches
        await wait_drained(stack.redis_url, 120)
        for _ in range(rounds):
            result = await client.submit_phase(CONCURRENCY, duration)
            rates.append(result.ok / result.duration_s)
            await wait_drained(stack.redis_url, 180)
    return rates


def _measure(mode: str, args: argparse.Namespace) -> list[float]:
    tmp = Path(tempfile.mkdtemp(prefix=f"satyamark-obs-{mode}-"))
    infra = Infra(tmp)
    try:
        infra.start(
            workers=2,
            ws_instances=2,
            metrics=mode != "off",
            extra_env={"SATYAMARK_TRACES_DIR": str(tmp / "traces")} if mode == "on" else {},
        )
        duration = 3.0 if args.quick else args.duration
        rounds = 2 if args.quick else args.rounds
        rates = asyncio.run(_throughput(infra, duration, rounds, args.users))
        log(f"observability {mode}: {[round(r, 1) for r in rates]} accepted submits/s")
        return rates
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
    for mode in ("off", "metrics", "on"):
        rates = _measure(mode, args)
        figures[f"submit_rps_c{CONCURRENCY}_{mode}"] = round(statistics.median(rates), 1)
    off = figures[f"submit_rps_c{CONCURRENCY}_off"]
    for mode in ("metrics", "on"):
        rate = figures[f"submit_rps_c{CONCURRENCY}_{mode}"]
        figures[f"ratio_{mode}_to_off"] = round(rate / off, 3) if off else None
    ok = (figures["ratio_on_to_off"] or 0) >= TARGET_RATIO
    figures["meets_target"] = f"{'yes' if ok else 'NO'} (on >= {TARGET_RATIO:.0%} of off)"
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(main())
