"""The model stage alone for bench/worker.py: the evaluation texts, ``judge.judge`` timed in
batches of B in this process, and what ran (code version, device, parameter counts)."""

from __future__ import annotations

import json
import math
import os
import platform
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from bench.worker_load import CpuMeter
from worker.model import Judge

ROOT = Path(__file__).resolve().parents[1]


# -- texts ---------------------------------------------------------------------------------


class Texts:
    """The evaluation texts in a fixed shuffled order, so that any prefix mixes every
    kind; ``take(n)`` is the first n of that order (cycled), each made unique."""

    def __init__(self, path: Path) -> None:
        base = [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
        random.Random(7).shuffle(base)
        self.base = base
        self._next_id = 0

    def take(self, n: int) -> list[str]:
        out = []
        for i in range(n):
            self._next_id += 1
            out.append(f"{self.base[i % len(self.base)]} (#{self._next_id})")
        return out


# -- models --------------------------------------------------------------------------------


def code_version() -> str:
    """The commit, and "+dirty" when worker/ has uncommitted changes (what ran)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--", "worker") else "")


def param_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    return f"CPU: {model}, {os.cpu_count()} cores"


def time_model(judge: Judge, texts: list[str], batch: int) -> float:
    """Seconds to judge ``texts`` in batches of ``batch``, back to back."""
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        verdicts = judge.judge(texts[i : i + batch])
        assert len(verdicts) == len(texts[i : i + batch])
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - started


def warm_up(judge: Judge, texts: Texts, batch: int) -> float:
    """A first batch (lazy initialisation), then the items/s over the first 32 texts of
    the order (at least one batch): an estimate that sizes the runs."""
    judge.judge(texts.take(batch))
    items = batch * math.ceil(32 / batch)
    return items / time_model(judge, texts.take(items), batch)


@dataclass(frozen=True)
class ModelRun:
    items_per_s: float
    cpu: dict[str, float]


def model_run(judge: Judge, texts: list[str], batch: int, meter: CpuMeter) -> ModelRun:
    meter.begin()
    seconds = time_model(judge, texts, batch)
    return ModelRun(len(texts) / seconds, meter.end())
