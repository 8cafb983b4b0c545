"""Accuracy of the worker's judge on the project's evaluation set.

    .venv/bin/python bench/eval.py                      # offline defaults
    .venv/bin/python bench/eval.py --errors             # also list every miss
    .venv/bin/python bench/eval.py --nli-model PATH_OR_ID --kb FILE --set FILE

The judge is loaded exactly as a worker loads it (``worker.model.load_judge``), with the
knowledge base read from a file (the starter knowledge base unless ``--kb``) instead of
PostgreSQL. Prints accuracy, accuracy per kind of input, per-mark precision and recall,
the confusion matrix and a JSON line; exits 1 below ``--min-accuracy``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path, where queue.py and
# worker.py shadow the standard library's queue and our worker package: keep it off.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _HERE]
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.knowledge import STARTER_KB_PATH  # noqa: E402
from shared.schemas import Mark  # noqa: E402
from worker.config import WorkerSettings  # noqa: E402
from worker.model import load_judge  # noqa: E402

EVAL_SET = Path(__file__).with_name("eval_set.jsonl")
MARKS = [m.value for m in Mark]
TARGET = 0.85


def load_cases(path: Path) -> list[dict[str, str]]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            case = json.loads(line)
            if case.get("expected") not in MARKS:
                raise SystemExit(f"{path}:{number}: expected must be one of {MARKS}")
            cases.append(case)
    return cases


CONFIDENCE_BUCKETS = ((0, 59), (60, 69), (70, 79), (80, 89), (90, 100))


def calibration(hits: list[bool], confidences: list[int]) -> dict[str, dict[str, float]]:
    """Accuracy per confidence bucket: a calibrated judge is right about as often as it
    says it is."""
    table = {}
    for low, high in CONFIDENCE_BUCKETS:
        inside = [h for h, c in zip(hits, confidences, strict=True) if low <= c <= high]
        if inside:
            table[f"{low}-{high}"] = {"n": len(inside), "accuracy": sum(inside) / len(inside)}
    return table


def evaluate(
    cases: list[dict[str, str]], predicted: list[str], confidences: list[int] | None = None
) -> dict[str, object]:
    pairs = [(c["expected"], p) for c, p in zip(cases, predicted, strict=True)]
    confusion = Counter(pairs)
    per_mark = {}
    for mark in MARKS:
        tp = confusion[(mark, mark)]
        said = sum(n for (_, p), n in confusion.items() if p == mark)
        truly = sum(n for (e, _), n in confusion.items() if e == mark)
        per_mark[mark] = {
            "precision": tp / said if said else None,
            "recall": tp / truly if truly else None,
            "support": truly,
        }
    kinds: dict[str, list[bool]] = {}
    for case, (expected, got) in zip(cases, pairs, strict=True):
        kinds.setdefault(case.get("kind", "?"), []).append(expected == got)
    return {
        "cases": len(cases),
        "accuracy": sum(e == p for e, p in pairs) / len(pairs),
        "per_kind": {k: sum(v) / len(v) for k, v in sorted(kinds.items())},
        "per_mark": per_mark,
        "confusion": {f"{e}->{p}": n for (e, p), n in sorted(confusion.items())},
        "calibration": calibration([e == p for e, p in pairs], confidences or [])
        if confidences
        else {},
    }


def _pct(value: object) -> str:
    return f"{100 * value:5.1f}%" if isinstance(value, float) else "    - "


def report(result: dict[str, object], confusion: Counter[tuple[str, str]]) -> None:
    print(f"\naccuracy: {_pct(result['accuracy'])} of {result['cases']} (target ≥ 85%)")
    print("\nper kind:")
    per_kind = result["per_kind"]
    assert isinstance(per_kind, dict)
    for kind, acc in per_kind.items():
        print(f"  {kind:<14} {_pct(acc)}")
    print(f"\n{'mark':<14}{'precision':>10}{'recall':>9}{'support':>9}")
    per_mark = result["per_mark"]
    assert isinstance(per_mark, dict)
    for mark, row in per_mark.items():
        print(f"{mark:<14}{_pct(row['precision']):>10}{_pct(row['recall']):>9}{row['support']:>9}")
    print("\nconfusion (rows: expected, columns: predicted)")
    print(" " * 14 + "".join(f"{m[:12]:>13}" for m in MARKS))
    for expected in MARKS:
        cells = "".join(f"{confusion[(expected, got)]:>13}" for got in MARKS)
        print(f"{expected:<14}{cells}")
    table = result["calibration"]
    assert isinstance(table, dict)
    if table:
        print("\nconfidence vs accuracy (calibration)")
        for bucket, row in table.items():
            print(f"  {bucket:>7}: {row['n']:>4} verdicts, {_pct(row['accuracy'])} right")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=EVAL_SET, help="evaluation JSONL")
    parser.add_argument("--kb", type=Path, default=STARTER_KB_PATH, help="knowledge base")
    parser.add_argument("--model", default="", help="sentence encoder (default: MiniLM)")
    parser.add_argument("--nli-model", default="", help="NLI classifier (default: none)")
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    args = parser.parse_args()

    settings = WorkerSettings(
        model=args.model, nli_model=args.nli_model, knowledge_base=str(args.kb), cpu_threads=0
    )
    started = time.monotonic()
    judge = load_judge(settings)
    loaded = time.monotonic() - started
    cases = load_cases(args.set)
    started = time.monotonic()
    verdicts = judge.judge([c["text"] for c in cases])
    elapsed = time.monotonic() - started
    predicted = [v.mark.value for v in verdicts]
    result = evaluate(cases, predicted, [v.confidence for v in verdicts])
    print(f"judge: {judge.name}; knowledge base: {args.kb}; set: {args.set}")
    print(f"loaded in {loaded:.1f}s; judged {len(cases)} texts in {elapsed:.2f}s")
    report(result, Counter((c["expected"], p) for c, p in zip(cases, predicted, strict=True)))
    if args.errors:
        print("\nmisses:")
        for case, verdict in zip(cases, verdicts, strict=True):
            if verdict.mark.value != case["expected"]:
                got = f"{verdict.mark.value} ({verdict.confidence})"
                print(f"- [{case.get('kind')}] {case['text']!r}")
                print(f"    expected {case['expected']}, got {got}: {verdict.reason}")
    print("JSON " + json.dumps(result))
    accuracy = result["accuracy"]
    assert isinstance(accuracy, float)
    return 0 if accuracy >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
