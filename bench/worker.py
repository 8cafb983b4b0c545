"""Worker model-stage benchmark: the judge alone, and the same judge through the real queue.

    .venv/bin/python bench/worker.py               # B = 1, 8, 32, 128, base-size NLI
    .venv/bin/python bench/worker.py --quick       # fewer items (< 5 min on 2 idle cores)
    .venv/bin/python bench/worker.py --no-nli      # MiniLM + the word-level stance only
    .venv/bin/python bench/worker.py --device cuda --batch-sizes 8,32,128
    .venv/bin/python bench/worker.py --keep        # keep the temp dir (worker/receiver logs)

For each batch size B, on the same number of fresh texts (``bench/eval_set.jsonl`` in a
fixed shuffled order, cycled, each made unique with a " (#n)" suffix):
- model alone: ``judge.judge(batch)`` in this process, batches of B back to back, after
  a warm-up; items/s;
- through the queue: one real ``python -m worker`` (WORKER_BATCH_SIZE=B,
  WORKER_MAX_IN_FLIGHT=2B, same models, device and threads) and one real
  ``python -m result_receiver``, on a private Redis and a fresh PostgreSQL database
  holding the starter knowledge base. N task rows are written as the backend writes
  them and the N jobs XADDed as ai_service does; the time runs from the first XADD
  until the last row is ``done`` (its ``completed_at``); items/s.
Both paths are measured in turn (3 runs each; ``--quick``: 3 and 1), medians compared.
Target (issue): the queue path reaches >= 90 % of the model-alone items/s at the same B.

The encoder is the bundled all-MiniLM-L6-v2; the NLI model is a randomly initialised
bert-base-size classifier built on the spot (its stances are noise; its cost is real).
On a shared host each run waits for a quiet machine and is measured again when other
jobs used more than OTHER_MAX_PCT of a core during it. WORKER_MIN_JOB_MS=1 makes the
worker log each model call, which gives the batch sizes it formed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import signal
import statistics
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

if not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401
import torch
from ulid import ULID

from bench.procstat import machine_busy_pct
from bench.worker_load import OTHER_MAX_PCT, LoadGuard, log, wait_quiet
from bench.worker_model import (
    ModelRun,
    Texts,
    code_version,
    device_name,
    model_run,
    param_count,
    warm_up,
)
from bench.worker_stack import QueueRun, Services
from shared.knowledge import KB_PATH
from worker.ai.nli import NliStance
from worker.config import WorkerSettings
from worker.model import Judge, default_model_ref, evidence_judge, load_judge

ROOT = Path(__file__).resolve().parents[1]
EVAL_SET = ROOT / "bench" / "eval_set.jsonl"
TARGET_RATIO = 0.90
TOTAL_LIMIT_S = {"quick": 15 * 60, "full": 45 * 60}


@dataclass
class Row:
    batch: int
    items: int
    model_runs: list[ModelRun] = field(default_factory=list)
    queue_runs: list[QueueRun] = field(default_factory=list)
    estimate: float = 0.0
    repeated: int = 0  # runs thrown away because other jobs loaded the machine

    @property
    def model(self) -> float:
        return statistics.median(r.items_per_s for r in self.model_runs)

    @property
    def queue(self) -> float:
        return statistics.median(r.items_per_s for r in self.queue_runs)

    @property
    def ratio(self) -> float:
        return self.queue / self.model

    def median_queue_run(self) -> QueueRun:
        return sorted(self.queue_runs, key=lambda r: r.items_per_s)[len(self.queue_runs) // 2]

    def summary(self) -> dict[str, Any]:
        q = self.median_queue_run()
        batches = self.items / self.batch
        return {
            "batch": self.batch,
            "items_per_run": self.items,
            "warm_up_items_s": round(self.estimate, 2),
            "model_items_s": round(self.model, 2),
            "model_runs_items_s": [round(r.items_per_s, 2) for r in self.model_runs],
            "model_runs_other_load_pct": [r.cpu["other"] for r in self.model_runs],
            "queue_items_s": round(self.queue, 2),
            "queue_runs_items_s": [round(r.items_per_s, 2) for r in self.queue_runs],
            "queue_runs_other_load_pct": [r.cpu["other"] for r in self.queue_runs],
            "ratio": round(self.ratio, 3),
            "pass": self.ratio >= TARGET_RATIO,
            "runs_repeated_for_load": self.repeated,
            "queue_median_run": {
                "seconds": round(q.seconds, 3),
                "polled_s": round(q.polled_s, 3),
                "enqueue_s": round(q.enqueue_s, 3),
                "failed": q.failed,
                "cpu_pct": q.cpu,
                "redis_calls": q.redis_calls,
                "xreadgroup_per_full_batch": round(q.redis_calls["xreadgroup"] / batches, 2),
                "model_calls": len(q.batches),
                "mean_batch": round(statistics.mean(q.batches), 2) if q.batches else None,
                "full_batches": sum(1 for n in q.batches if n == self.batch),
                # texts per model call -> how many calls had that many
                "batch_histogram": dict(sorted(Counter(q.batches).items(), reverse=True)),
            },
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer items and one queue run per B")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--no-nli", action="store_true", help="no NLI model (word-level stance)")
    p.add_argument(
        "--nli-model", default="", help="an NLI model path or id instead of the random one"
    )
    p.add_argument("--model", default="", help="the encoder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument(
        "--batch-sizes", default="1,8,32,128", help="comma-separated (default 1,8,32,128)"
    )
    p.add_argument("--batch-wait-ms", type=int, default=2, help="WORKER_BATCH_WAIT_MS (default 2)")
    p.add_argument(
        "--in-flight-factor", type=int, default=2, help="WORKER_MAX_IN_FLIGHT = this x B"
    )
    p.add_argument(
        "--cpu-threads", type=int, default=0, help="WORKER_CPU_THREADS, both paths (0 = all cores)"
    )
    p.add_argument(
        "--no-batch-log",
        action="store_true",
        help="no WORKER_MIN_JOB_MS=1 (its log line per model call gives the batch sizes)",
    )
    p.add_argument("--nli-batch-size", type=int, default=64, help="WORKER_NLI_BATCH_SIZE")
    p.add_argument("--seconds", type=float, help="target length of one run (default 6, quick 2.5)")
    p.add_argument(
        "--runs", type=int, help="runs per path and B (default 3; quick: 3 model, 1 queue)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, models)")
    args = p.parse_args(argv)
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    if not args.batch_sizes or min(args.batch_sizes) < 1:
        p.error("--batch-sizes needs positive integers")
    return args


def settings_for(args: argparse.Namespace, nli_model: str) -> WorkerSettings:
    # Every field that matters is given, so no WORKER_* variable of the caller leaks in.
    return WorkerSettings(
        model=args.model,
        nli_model=nli_model,
        knowledge_base=str(KB_PATH),  # the same claims as the worker's PostgreSQL
        device=args.device,
        cpu_threads=args.cpu_threads,  # the same in both paths
        nli_batch_size=args.nli_batch_size,
        min_job_ms=0,
    )


def measure_batch(
    row: Row,
    judge: Judge,
    services: Services,
    texts: Texts,
    guard: LoadGuard,
    model_runs: int,
    queue_runs: int,
) -> None:
    """The runs of one batch size, the two paths interleaved so that drifting load on
    a shared host hits both alike; every run judges ``row.items`` fresh texts."""
    batch, items = row.batch, row.items

    def alone() -> ModelRun:
        return model_run(judge, texts.take(items), batch, services.meter())

    def queued() -> QueueRun:
        return services.queue_run(texts.take(items), f"bench-{batch}-{ULID()}")

    for i in range(max(model_runs, queue_runs)):
        if i < model_runs:
            row.model_runs.append(guard.run(f"B={batch}: model alone", alone))
        if i < queue_runs:
            row.queue_runs.append(guard.run(f"B={batch}: queue", queued))


def bench(args: argparse.Namespace, tmp: Path, runner: asyncio.Runner) -> dict[str, Any]:
    code = code_version()  # each worker imports the tree as it is when it starts
    busy = machine_busy_pct()
    log(f"machine busy before the start: {busy}% of one core")
    if busy > OTHER_MAX_PCT:
        log("WARNING: the machine is busy; figures will be low and noisy")
    nli_model = "" if args.no_nli else args.nli_model
    if not args.no_nli and not nli_model:
        from tests.utils.tiny_models import build_random_nli

        log("building a random-weight bert-base NLI classifier ...")
        nli_model = str(build_random_nli(tmp / "nli-base", tokenizer=default_model_ref()[0]))
    settings = settings_for(args, nli_model)
    judge = load_judge(settings)
    found = evidence_judge(judge)
    assert found is not None
    device = found.encoder.device
    models = {"encoder": found.encoder.name, "encoder_params": param_count(found.encoder.model)}
    if isinstance(found.stance, NliStance):
        models |= {"nli": nli_model, "nli_params": param_count(found.stance.classifier.model)}
    else:
        models |= {"nli": "", "stance": found.stance.name}
    threads = torch.get_num_threads()
    log(f"judge {judge.name} on {device} ({device_name(device)}), torch threads {threads}")

    worker_models = {
        "WORKER_MODEL": args.model,
        "WORKER_NLI_MODEL": nli_model,
        "WORKER_DEVICE": args.device,
        "WORKER_CPU_THREADS": str(args.cpu_threads),
        "WORKER_NLI_BATCH_SIZE": str(args.nli_batch_size),
        # 1 ms: every real batch takes longer, so this only adds the worker's log line
        # "model run: <n> texts", from which the batch sizes are read.
        "WORKER_MIN_JOB_MS": "0" if args.no_batch_log else "1",
    }
    services = Services(
        tmp,
        models=worker_models,
        worker_env={"WORKER_BATCH_WAIT_MS": str(args.batch_wait_ms)},
        runner=runner,
    )
    seconds = args.seconds or (2.5 if args.quick else 6.0)
    min_batches = 2 if args.quick else 4
    model_runs = args.runs or 3
    queue_runs = args.runs or (1 if args.quick else 3)
    guard = LoadGuard(quiet_s=10.0 if args.quick else 30.0, repeats=2 if args.quick else 3)
    texts = Texts(EVAL_SET)
    rows: list[Row] = []
    try:
        services.start()
        for batch in args.batch_sizes:
            services.start_worker(batch, args.in_flight_factor * batch)
            log(f"B={batch}: worker joined; warming up the model here")
            wait_quiet(guard.quiet_s)
            estimate = warm_up(judge, texts, batch)
            # The same number of items on both paths, ~``seconds`` and a few batches: the
            # queue's first batch forms while the jobs are still arriving.
            items = max(min_batches * batch, math.ceil(estimate * seconds / batch) * batch)
            row = Row(batch, items, estimate=estimate)
            rows.append(row)
            # The queue's own warm-up (HTTP connections, first batches), untimed.
            services.queue_run(texts.take(min(batch, 16)), f"bench-warm-{batch}")
            measure_batch(row, judge, services, texts, guard, model_runs, queue_runs)
            row.repeated = guard.take_repeats()
            services.stop_worker()
    finally:
        services.stop()
    return {
        "device": device_name(device),
        "device_type": device.type,
        "torch_threads": threads,
        "torch": torch.__version__,
        "code": code if code == code_version() else f"{code} -> {code_version()} (changed)",
        "models": models,
        "quick": args.quick,
        "batch_wait_ms": args.batch_wait_ms,
        "max_in_flight_factor": args.in_flight_factor,
        "nli_batch_size": args.nli_batch_size,
        "target_ratio": TARGET_RATIO,
        "machine_busy_before_pct": busy,
        "results": [row.summary() for row in rows],
    }


def report(result: dict[str, Any]) -> None:
    m = result["models"]
    print()
    threads = f"torch {result['torch']}, {result['torch_threads']} threads"
    print(f"code          {result['code']}")
    print(f"device        {result['device']} ({threads})")
    print(f"encoder       {m['encoder']}: {m['encoder_params'] / 1e6:.1f} M parameters")
    if m.get("nli"):
        print(f"NLI           {m['nli']}: {m['nli_params'] / 1e6:.1f} M parameters")
    else:
        print(f"stance        {m['stance']} (no NLI model)")
    print(f"queue worker  WORKER_BATCH_WAIT_MS={result['batch_wait_ms']},"
          f" WORKER_MAX_IN_FLIGHT={result['max_in_flight_factor']}xB")  # fmt: skip
    print()
    head = f"{'B':>5} | {'items':>6} | {'model alone/s':>13} | {'queue/s':>8} | {'ratio':>5}"
    print(f"{head} | target {TARGET_RATIO:.2f}")
    print(f"{'-' * 5}-+-{'-' * 6}-+-{'-' * 13}-+-{'-' * 8}-+-{'-' * 5}-+-{'-' * 12}")
    for r in result["results"]:
        print(
            f"{r['batch']:>5} | {r['items_per_run']:>6} | {r['model_items_s']:>13.1f} |"
            f" {r['queue_items_s']:>8.1f} | {r['ratio']:>5.2f} | {'PASS' if r['pass'] else 'MISS'}"
        )
    print()
    for r in result["results"]:
        q = r["queue_median_run"]
        cpu = ", ".join(f"{k} {v:.0f}%" for k, v in q["cpu_pct"].items())
        calls = (
            f"{q['model_calls']} model calls, mean batch {q['mean_batch']},"
            f" {q['full_batches']} full"
            if q["model_calls"]
            else "batches not logged"
        )
        print(
            f"B={r['batch']}: median queue run {q['seconds']:.2f}s: {calls};"
            f" {q['xreadgroup_per_full_batch']} XREADGROUP per B items;"
            f" enqueue {q['enqueue_s']:.2f}s; {q['failed']} failed."
        )
        print(f"      CPU, % of one core: {cpu}")
        print(
            f"      load not ours: model runs {r['model_runs_other_load_pct']}%,"
            f" queue runs {r['queue_runs_other_load_pct']}%;"
            f" runs repeated for load: {r['runs_repeated_for_load']}"
        )
    print()
    print("JSON " + json.dumps(result, sort_keys=True))


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError("the benchmark ran past its overall limit")


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGALRM, _raise_timeout)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.alarm(TOTAL_LIMIT_S["quick" if args.quick else "full"])
    tmp = Path(tempfile.mkdtemp(prefix="satyamark-worker-bench-"))
    try:
        with asyncio.Runner() as runner:
            result = bench(args, tmp, runner)
    finally:
        signal.alarm(0)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
