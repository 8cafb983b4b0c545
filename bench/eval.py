"""Accuracy, wrong-direction rate and calibration of the worker's judge.

    .venv/bin/python bench/eval.py                      # every set, offline defaults
    .venv/bin/python bench/eval.py --set bench/eval_people.jsonl --errors
    .venv/bin/python bench/eval.py --nli-model PATH_OR_ID --kb FILE_OR_DIR

The judge is loaded exactly as a worker loads it (``worker.model.load_judge``), and each
text first passes the worker's input checks (``worker.input_check.check_input``: a text in
a language the models do not read fails there, with no mark, and counts as a miss), with
the knowledge base read from files (the bundled base unless ``--kb``) instead of
PostgreSQL. For each set it prints accuracy and the **wrong-direction rate** (Correct
given for Incorrect or the reverse: the error a reader is hurt by most), both per kind
of text, per-mark precision and recall, the confusion matrix, a reliability table
(accuracy per confidence band against the band's midpoint) and the expected calibration
error (ECE); then one JSON line per set. Exits 1 when a set misses ``--min-accuracy``.

Sets: ``eval_set.jsonl`` was used while writing the rules (development);
``eval_holdout.jsonl``, ``eval_people.jsonl`` and ``eval_fresh.jsonl`` were written apart
from them. ``stance_pairs.jsonl`` (``--set bench/stance_pairs.jsonl``) holds 7,560
sentence pairs written by hand, apart from ``worker/ai/``: a known claim of the bundled
base and a text as people post it that entails it, contradicts it or neither; the texts
whose right mark follows from the pair become cases (see ``pair_cases``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:  # run as a script, python bench/X.py: see bench/_root.py
    import _root  # type: ignore[import-not-found]  # noqa: F401

from shared.knowledge import KB_PATH, KbRecord, knowledge_files, read_records
from shared.schemas import Mark, TextVerdict
from worker.ai.language import LanguageGate
from worker.config import WorkerSettings
from worker.input_check import check_input
from worker.model import Judge, load_judge

EVAL_SET = Path(__file__).with_name("eval_set.jsonl")
STANCE_PAIRS = Path(__file__).with_name("stance_pairs.jsonl")
HELD_OUT_SETS = [
    Path(__file__).with_name(n)
    for n in ("eval_holdout.jsonl", "eval_people.jsonl", "eval_fresh.jsonl")
]
ALL_SETS = [EVAL_SET, *HELD_OUT_SETS]
# Correct for an Incorrect text or the reverse: a verdict pointing the wrong way.
OPPOSITES = frozenset({("Correct", "Incorrect"), ("Incorrect", "Correct")})
MARKS = [m.value for m in Mark]
TARGET = 0.85
REFUSED = "Refused"  # the worker failed the text (WK-INPUT-*): no mark at all


@dataclass(frozen=True, slots=True)
class Prediction:
    mark: str  # a Mark's value, or REFUSED
    confidence: int
    reason: str
    verdict: TextVerdict | None  # None when refused


def predict(judge: Judge, texts: list[str], settings: WorkerSettings) -> list[Prediction]:
    """What a worker with ``settings`` answers for each text: its input checks, then the
    judge (one batch) for the texts they let through."""
    gate = LanguageGate(settings.judged_languages, settings.langid_model)
    problems = [check_input(text, settings.max_text_chars, gate) for text in texts]
    verdicts = iter(judge.judge([t for t, p in zip(texts, problems, strict=True) if p is None]))
    predictions = []
    for problem in problems:
        if problem is not None:
            predictions.append(Prediction(REFUSED, 0, ": ".join(problem), None))
            continue
        verdict = next(verdicts)
        assert isinstance(verdict, TextVerdict), verdict
        predictions.append(
            Prediction(verdict.mark.value, verdict.confidence, verdict.reason, verdict)
        )
    return predictions


def pair_cases(path: Path, kb: Path) -> list[dict[str, str]]:
    """Cases from written sentence pairs, where the mark follows from the pair: a text
    that says what a known claim says takes its verdict, one that contradicts a true
    known claim is Incorrect. Left out, as they could be either: neither-nor, a
    contradiction of a false claim, and less than a false claim says ("born in
    Austria" of a false "born in Vienna"). Kind: the label and how the text was
    written ("contradicts/number")."""
    truth = {
        r.claim: r.verdict
        for file in knowledge_files(kb)
        for _, r in read_records(file)
        if isinstance(r, KbRecord)
    }
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        pair = json.loads(line) if line.strip() else {}
        true = truth.get(pair.get("premise", ""))
        if true is None:
            continue
        if pair["label"] == "entails" and (true or pair["kind"] != "weaker"):
            expected = "Correct" if true else "Incorrect"
        elif pair["label"] == "contradicts" and true:
            expected = "Incorrect"
        else:
            continue
        kind = f"{pair['label']}/{pair['kind']}"
        cases.append({"text": pair["hypothesis"], "expected": expected, "kind": kind})
    return cases


def load_cases(path: Path, kb: Path = KB_PATH) -> list[dict[str, str]]:
    if path.name == STANCE_PAIRS.name:
        return pair_cases(path, kb)
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            case = json.loads(line)
            if case.get("expected") not in MARKS:
                raise SystemExit(f"{path}:{number}: expected must be one of {MARKS}")
            cases.append(case)
    return cases


# Ten-point bands; a calibrated judge is right about as often as the band's midpoint.
CONFIDENCE_BANDS = tuple((low, low + 9) for low in range(0, 100, 10))


def calibration(hits: list[bool], confidences: list[int]) -> dict[str, dict[str, float]]:
    """Per confidence band: how many verdicts, how often right, the mean confidence."""
    table = {}
    for low, high in CONFIDENCE_BANDS:
        high = 100 if high == 99 else high
        inside = [(h, c) for h, c in zip(hits, confidences, strict=True) if low <= c <= high]
        if inside:
            table[f"{low}-{high}"] = {
                "n": len(inside),
                "accuracy": sum(h for h, _ in inside) / len(inside),
                "confidence": sum(c for _, c in inside) / len(inside) / 100,
            }
    return table


def expected_calibration_error(table: dict[str, dict[str, float]]) -> float:
    """The verdict-weighted mean gap between stated confidence and accuracy per band."""
    total = sum(row["n"] for row in table.values())
    if not total:
        return 0.0
    return (
        sum(row["n"] * abs(row["accuracy"] - row["confidence"]) for row in table.values()) / total
    )


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
    kinds: dict[str, list[tuple[str, str]]] = {}
    for case, pair in zip(cases, pairs, strict=True):
        kinds.setdefault(case.get("kind", "?"), []).append(pair)
    table = calibration([e == p for e, p in pairs], confidences) if confidences else {}
    return {
        "cases": len(cases),
        "accuracy": sum(e == p for e, p in pairs) / len(pairs),
        "wrong_direction": sum(pair in OPPOSITES for pair in pairs) / len(pairs),
        "per_kind": {
            k: {
                "n": len(v),
                "accuracy": sum(e == p for e, p in v) / len(v),
                "wrong_direction": sum(pair in OPPOSITES for pair in v) / len(v),
            }
            for k, v in sorted(kinds.items())
        },
        "per_mark": per_mark,
        "confusion": {f"{e}->{p}": n for (e, p), n in sorted(confusion.items())},
        "calibration": table,
        "ece": expected_calibration_error(table) if table else None,
    }


def _pct(value: object) -> str:
    return f"{100 * value:5.1f}%" if isinstance(value, float) else "    - "


def report(result: dict[str, Any], confusion: Counter[tuple[str, str]]) -> None:
    print(
        f"\naccuracy: {_pct(result['accuracy'])} of {result['cases']} (target ≥ 90%); "
        f"wrong direction: {_pct(result['wrong_direction'])} (target ≤ 1%)"
    )
    print(f"\n{'kind':<14}{'n':>5}{'accuracy':>10}{'wrong dir':>11}")
    for kind, row in result["per_kind"].items():
        print(
            f"{kind:<14}{row['n']:>5}{_pct(row['accuracy']):>10}{_pct(row['wrong_direction']):>11}"
        )
    print(f"\n{'mark':<14}{'precision':>10}{'recall':>9}{'support':>9}")
    for mark, row in result["per_mark"].items():
        print(f"{mark:<14}{_pct(row['precision']):>10}{_pct(row['recall']):>9}{row['support']:>9}")
    print("\nconfusion (rows: expected, columns: predicted)")
    print(" " * 14 + "".join(f"{m[:12]:>13}" for m in MARKS))
    for expected in MARKS:
        cells = "".join(f"{confusion[(expected, got)]:>13}" for got in MARKS)
        print(f"{expected:<14}{cells}")
    table = result["calibration"]
    if table:
        print("\nreliability (a calibrated band is right within ±10 points of its midpoint)")
        print(f"{'band':>8}{'n':>6}{'mean conf':>11}{'right':>9}  ok")
        for band, row in table.items():
            low, high = (int(x) for x in band.split("-"))
            ok = abs(row["accuracy"] - (low + high) / 200) <= 0.10
            print(
                f"{band:>8}{row['n']:>6}{_pct(row['confidence']):>11}{_pct(row['accuracy']):>9}"
                f"  {'yes' if ok else 'NO'}"
            )
        print(f"expected calibration error: {result['ece']:.3f} (target ≤ 0.08)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set", type=Path, action="append", help="evaluation JSONL (repeatable; default: all)"
    )
    parser.add_argument("--kb", type=Path, default=KB_PATH, help="knowledge base file or folder")
    parser.add_argument("--model", default="", help="sentence encoder (default: MiniLM)")
    parser.add_argument("--nli-model", default="", help="NLI classifier (default: none)")
    parser.add_argument(
        "--stance", choices=["learned", "lexical"], default=None, help="WORKER_STANCE"
    )
    parser.add_argument("--errors", action="store_true", help="list every miss")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    args = parser.parse_args()

    settings = WorkerSettings(
        model=args.model,
        nli_model=args.nli_model,
        knowledge_base=str(args.kb),
        cpu_threads=0,
        **({"stance": args.stance} if args.stance else {}),
    )
    started = time.monotonic()
    judge = load_judge(settings)
    loaded = time.monotonic() - started
    print(f"judge: {judge.name}; knowledge base: {args.kb}; loaded in {loaded:.1f}s")
    status = 0
    for path in args.set or ALL_SETS:
        cases = load_cases(path, args.kb)
        started = time.monotonic()
        predictions = predict(judge, [c["text"] for c in cases], settings)
        elapsed = time.monotonic() - started
        predicted = [p.mark for p in predictions]
        result = evaluate(cases, predicted, [p.confidence for p in predictions])
        refused = predicted.count(REFUSED)
        print(f"\n=== {path.name}: judged {len(cases)} texts in {elapsed:.2f}s ({refused} refused)")
        report(result, Counter((c["expected"], p) for c, p in zip(cases, predicted, strict=True)))
        if args.errors:
            print("\nmisses:")
            for case, p in zip(cases, predictions, strict=True):
                if p.mark != case["expected"]:
                    print(f"- [{case.get('kind')}] {case['text']!r}")
                    got = f"{p.mark} ({p.confidence})"
                    print(f"    expected {case['expected']}, got {got}: {p.reason}")
        print("JSON " + json.dumps({"set": path.name, "refused": refused, **result}))
        if result["accuracy"] < args.min_accuracy:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
