"""Approximate nearest-neighbour search for open-world evidence (``worker.ai.passages``).

A synthetic corpus of clustered unit vectors (dim 384, like all-MiniLM-L6-v2) at each
``--n``; for the exact index (``IndexFlatIP``) and the HNSW index that ``PassageIndex``
builds (same code, same default parameters): build time, index memory, query latency
p50/p99 for single queries and for batches of 64, and recall@10 against the exact
answer on 1,000 queries, for several ``efSearch`` values. Prints a table and one
``JSON {...}`` line.

    .venv/bin/python bench/ann.py --n 100000
    nice -n 10 timeout 3600 .venv/bin/python bench/ann.py --n 1000000

The vectors: ``n / 1000`` random unit centres, each point a centre plus isotropic
Gaussian noise of norm ``--spread`` (1.0: a point's cosine to its centre ~0.7, to its
true nearest neighbour ~0.6), then normalised. Isotropic noise in 384 dimensions is
harder for a graph index than real sentence embeddings, which lie near a low-dimensional
surface: recall here is a lower bound for the same parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

if not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401
import faiss
import numpy as np

from worker.ai.passages import DEFAULT_HNSW, HnswParams, Matrix, build_faiss_index

K = 10
BATCH = 64
GENERATE_CHUNK = 65_536


@dataclass
class IndexFigures:
    kind: str
    build_s: float
    index_bytes: int  # the serialised index: its vectors, plus the graph for HNSW
    single_p50_ms: float
    single_p99_ms: float
    batch64_p50_ms: float
    batch64_p99_ms: float
    recall_at_10: float
    # HNSW only: recall@10 and single-query p50 (ms) for each efSearch tried.
    sweep: dict[int, dict[str, float]] = field(default_factory=dict)


def unit_rows(x: Matrix) -> Matrix:
    faiss.normalize_L2(x)
    return x


def synthetic(n: int, centres: Matrix, spread: float, rng: np.random.Generator) -> Matrix:
    """``n`` clustered unit vectors around ``centres``, generated in bounded chunks."""
    dim = centres.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, GENERATE_CHUNK):
        end = min(n, start + GENERATE_CHUNK)
        which = rng.integers(len(centres), size=end - start)
        noise = rng.standard_normal((end - start, dim), dtype=np.float32)
        out[start:end] = centres[which] + noise * np.float32(spread / np.sqrt(dim))
    return unit_rows(out)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latencies_ms(
    search: Callable[[Matrix], Any], queries: Matrix, size: int, runs: int
) -> list[float]:
    """Milliseconds per call of ``search`` on ``runs`` slices of ``size`` queries."""
    times = []
    for i in range(runs):
        start = (i * size) % len(queries)
        chunk = np.ascontiguousarray(queries[start : start + size])
        t0 = time.perf_counter()
        search(chunk)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def recall(found: np.ndarray[Any, Any], truth: np.ndarray[Any, Any]) -> float:
    hits = sum(len(set(a.tolist()) & set(b.tolist())) for a, b in zip(found, truth, strict=True))
    return hits / truth.size


def measure(
    kind: str,
    corpus: Matrix,
    queries: Matrix,
    truth: np.ndarray[Any, Any],
    args: argparse.Namespace,
    hnsw: HnswParams,
) -> IndexFigures:
    t0 = time.perf_counter()
    # exact_below decides the kind exactly as PassageIndex does.
    index = build_faiss_index(
        corpus, exact_below=len(corpus) + 1 if kind == "exact" else 0, hnsw=hnsw
    )
    build_s = time.perf_counter() - t0
    index_bytes = int(faiss.serialize_index(index).nbytes)

    def search(x: Matrix) -> Any:
        return index.search(x, K)

    singles = min(args.single_queries, len(queries))
    if kind == "exact":
        singles = min(singles, args.exact_single_queries)
    single = latencies_ms(search, queries, 1, singles)
    batch = latencies_ms(
        search, queries, BATCH, args.exact_batches if kind == "exact" else args.batches
    )
    _, found = index.search(queries, K)
    figures = IndexFigures(
        kind=kind,
        build_s=build_s,
        index_bytes=index_bytes,
        single_p50_ms=statistics.median(single),
        single_p99_ms=percentile(single, 0.99),
        batch64_p50_ms=statistics.median(batch),
        batch64_p99_ms=percentile(batch, 0.99),
        recall_at_10=recall(found, truth),
    )
    if isinstance(index, faiss.IndexHNSWFlat):
        for ef in args.ef_sweep:
            index.hnsw.efSearch = ef
            _, found = index.search(queries, K)
            times = latencies_ms(search, queries, 1, min(300, len(queries)))
            figures.sweep[ef] = {
                "recall_at_10": recall(found, truth),
                "single_p50_ms": statistics.median(times),
            }
        index.hnsw.efSearch = hnsw.ef_search
    return figures


def run_size(n: int, args: argparse.Namespace, hnsw: HnswParams) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    centres = unit_rows(rng.standard_normal((max(10, n // 1000), args.dim), dtype=np.float32))
    t0 = time.perf_counter()
    corpus = synthetic(n, centres, args.spread, rng)
    queries = synthetic(args.queries, centres, args.spread, np.random.default_rng(args.seed + 1))
    generate_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    # Ground truth by brute force, without building an index (no second copy of corpus).
    _, truth = faiss.knn(queries, corpus, K, faiss.METRIC_INNER_PRODUCT)
    truth_s = time.perf_counter() - t0
    results = [measure(kind, corpus, queries, truth, args, hnsw) for kind in ("exact", "hnsw")]
    return {
        "n": n,
        "generate_s": generate_s,
        "ground_truth_s": truth_s,
        "indexes": [asdict(r) for r in results],
    }


def print_table(sizes: list[dict[str, Any]]) -> None:
    head = (
        f"{'n':>9} {'index':<6} {'build s':>9} {'memory MiB':>11} {'1q p50 ms':>10}"
        f" {'1q p99 ms':>10} {'64q p50 ms':>11} {'64q p99 ms':>11} {'recall@10':>10}"
    )
    print(head)
    print("-" * len(head))
    for size in sizes:
        for r in size["indexes"]:
            print(
                f"{size['n']:>9} {r['kind']:<6} {r['build_s']:>9.1f}"
                f" {r['index_bytes'] / 2**20:>11.0f} {r['single_p50_ms']:>10.3f}"
                f" {r['single_p99_ms']:>10.3f} {r['batch64_p50_ms']:>11.2f}"
                f" {r['batch64_p99_ms']:>11.2f} {r['recall_at_10']:>10.4f}"
            )
    for size in sizes:
        for r in size["indexes"]:
            for ef, figures in r["sweep"].items():
                print(
                    f"  n={size['n']} efSearch={ef}: recall@10 {figures['recall_at_10']:.4f},"
                    f" single query p50 {figures['single_p50_ms']:.3f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1_000_000], help="corpus sizes")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--spread", type=float, default=1.0, help="noise norm around a centre")
    parser.add_argument("--queries", type=int, default=1000, help="recall@10 queries")
    parser.add_argument("--single-queries", type=int, default=1000)
    parser.add_argument(
        "--exact-single-queries", type=int, default=200, help="exact scans are slow at 1M"
    )
    parser.add_argument("--batches", type=int, default=50, help="timed batches of 64")
    parser.add_argument("--exact-batches", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="faiss OpenMP threads (0: all)")
    # The defaults are PassageIndex's (worker/ai/passages.py: HnswParams says why);
    # --ef-sweep shows the recall/latency trade-off (figures: bench/README.md).
    parser.add_argument("--m", type=int, default=DEFAULT_HNSW.m)
    parser.add_argument("--ef-construction", type=int, default=DEFAULT_HNSW.ef_construction)
    parser.add_argument("--ef-search", type=int, default=DEFAULT_HNSW.ef_search)
    parser.add_argument("--ef-sweep", type=int, nargs="*", default=[32, 64, 128, 256])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    hnsw = HnswParams(m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search)
    sizes = [run_size(n, args, hnsw) for n in args.n]
    print_table(sizes)
    report = {
        "dim": args.dim,
        "spread": args.spread,
        "queries": args.queries,
        "hnsw": asdict(hnsw),
        "omp_threads": faiss.omp_get_max_threads(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "faiss": faiss.__version__,
        "sizes": sizes,
    }
    print("JSON " + json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
