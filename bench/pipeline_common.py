"""Small helpers shared by the pipeline benchmark's modules: a timestamped log line on
stderr, latency percentiles in milliseconds, running a benchmark's ``main``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import NoReturn


def load_parser(doc: str | None, quick: str, duration: str) -> argparse.ArgumentParser:
    """The options every load benchmark takes: ``--quick`` (its ``quick`` help),
    ``--duration`` (default 10 s of ``duration``), ``--users``."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--duration", type=float, default=10.0, help=duration)
    parser.add_argument("--users", type=int, default=64)
    return parser


def run_main(main: Callable[[], int]) -> NoReturn:
    """Exit with ``main()``'s status, on uvloop when it is installed."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(main())


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, ``q`` in [0, 100]."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)
